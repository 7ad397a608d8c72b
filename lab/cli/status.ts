import { existsSync } from 'node:fs';
import { readState } from '../state/store.ts';
import { getTier } from '../tiers/registry.ts';
import { planLab } from '../topology/plan.ts';
import { netnsPath } from '../links/netns.ts';
import { parseCommon } from './options.ts';
import type { Verb } from './verb.ts';
import { OPT } from './usage.ts';
import type { TierName } from '../tiers/tier.ts';

export interface NodeStatus {
  node: string;
  kind: TierName | 'container';
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
    const tier = getTier(state.tier);
    const whereabouts = tier.attach(plan, state).whereabouts();
    const nodes: NodeStatus[] = [
      {
        node: plan.webArm.node,
        kind: whereabouts.kind,
        netns: whereabouts.where,
        present: whereabouts.present,
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
      const started = tier.describeStart?.(state);
      if (started) process.stdout.write(`  ${started}\n`);
      for (const n of nodes) process.stdout.write(`  ${n.node.padEnd(16)} ${n.present ? 'up  ' : 'GONE'} ${n.netns.padEnd(34)} ${n.addresses.join(', ')}\n`);
    }
    return 0;
  },
};
