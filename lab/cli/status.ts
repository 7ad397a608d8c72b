import { existsSync } from 'node:fs';
import { describeGuestStart, readState } from '../state/store.ts';
import { planLab } from '../topology/plan.ts';
import { netnsPath } from '../links/netns.ts';
import { findProcesses } from '../host/processes.ts';
import { webArmVmNames } from '../nodes/guest/guestMachine.ts';
import { vagrantNames } from '../vagrant/vagrantPlan.ts';
import { parseCommon } from './options.ts';
import type { Verb } from './verbs.ts';
import { OPT } from './usage.ts';

export interface NodeStatus {
  node: string;
  kind: 'netns' | 'container' | 'qemu' | 'vagrant';
  netns: string;
  present: boolean;
  addresses: string[];
  container?: string;
}

export const statusVerb: Verb = {
  summary: "the lab's state, nodes, namespaces and addresses",
  usage: 'pnpm lab status [--name NAME] [--json]',
  options: [OPT.name, OPT.json],
  example: 'pnpm lab status --json',
  async run(args) {
    const options = parseCommon(args);
    const state = readState(options.config.lab.name);
    if (!state) {
      const out = { lab: options.config.lab.name, state: 'down', nodes: [] };
      process.stdout.write(options.json ? `${JSON.stringify(out, null, 2)}\n` : `lab "${out.lab}" is down\n`);
      return 0;
    }
    const plan = planLab(state.config);
    const c = state.config;
    const nodes: NodeStatus[] = [
      state.tier === 'vagrant'
        ? {
            node: 'web-arm',
            kind: 'vagrant',
            // A Vagrant VM: its NIC is a port of the lab's bridge, joined to the router's port.
            netns: `bridge ${vagrantNames(plan).bridge} (router port ${plan.upstream.toWebArmIf})`,
            present: existsSync(vagrantNames(plan).dotfilePath),
            addresses: [`${c.webArm.ipv6.address}/${c.webArm.ipv6.prefixLength}`, `${c.webArm.ipv4.address}/32`],
          }
        : state.tier === 'qemu'
        ? {
            node: 'web-arm',
            kind: 'qemu',
            // The guest's kernel has no namespace here: its link is the router's tap.
            netns: `${netnsPath(plan.upstream.netnsName)} (tap ${plan.upstream.toWebArmIf})`,
            present: findProcesses({ cmdlineContains: `process=${webArmVmNames(plan).processMark}` }).length > 0,
            addresses: [`${c.webArm.ipv6.address}/${c.webArm.ipv6.prefixLength}`, `${c.webArm.ipv4.address}/32`],
          }
        : {
            node: 'web-arm',
            kind: 'netns',
            netns: plan.webArm.netnsPath,
            present: existsSync(plan.webArm.netnsPath),
            addresses: [`${c.webArm.ipv6.address}/${c.webArm.ipv6.prefixLength}`, `${c.webArm.ipv4.address}/32`],
          },
      ...state.containers.map((k) => {
        const host = plan.internet.find((h) => h.node === k.node);
        const addresses =
          k.node === 'upstream'
            ? [`${c.upstream.linkLocal} (web-arm link)`, `${c.upstream.ipv4Gateway}/32`, c.upstream.internetIpv6, c.upstream.internetIpv4]
            : [host?.ipv6, host?.ipv4].filter((a): a is string => Boolean(a));
        return { node: k.node, kind: 'container' as const, netns: netnsPath(k.netnsName), present: existsSync(netnsPath(k.netnsName)), addresses, container: k.containerName };
      }),
    ];
    const out = {
      lab: state.name,
      state: state.phase,
      tier: state.tier,
      design: state.design?.name,
      engine: state.engine?.description,
      image: state.image?.tag,
      ...(state.hostImage && state.hostImage.tag !== state.image?.tag ? { hostImage: state.hostImage.tag } : {}),
      boots: state.boots,
      ...(state.guest ? { guest: state.guest } : {}),
      podmanSettings: state.podmanSettings,
      stateDir: plan.stateDir,
      nodes,
    };
    if (options.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    else {
      process.stdout.write(`lab "${out.lab}": ${out.state} on ${out.tier}, design ${out.design ?? '-'}, engine ${out.engine ?? '-'}\n`);
      if (state.guest) {
        // States written before snapshots have no start: web-arm booted.
        const guest = { ...state.guest, start: state.guest.start ?? 'boot' };
        process.stdout.write(`  web-arm guest: ${guest.arch}, ${guest.accel}, ${describeGuestStart(guest)}${guest.restoreFailed ? `; restore failed: ${guest.restoreFailed}` : ''}\n`);
      }
      for (const n of nodes) process.stdout.write(`  ${n.node.padEnd(16)} ${n.present ? 'up  ' : 'GONE'} ${n.netns.padEnd(34)} ${n.addresses.join(', ')}\n`);
    }
    return 0;
  },
};
