/**
 * web-arm on the netns tier as a started WebArm: the machine (nsenter into its namespaces,
 * podman's config in the environment), the emulated systemd that installs and starts units,
 * and the emulated reboot (units stopped, processes killed, namespaces destroyed and made again,
 * storage kept, units started in unit order).
 */
import Docker from 'dockerode';
import { existsSync, readFileSync } from 'node:fs';
import { LabBrokenError } from '../../errors.ts';
import { createMachine, type EnteredMachine, type NamespaceAbility, type SystemMachine } from '../../nodes/machine.ts';
import type { LabPlan } from '../../topology/plan.ts';
import { waitUntil } from '../../wait.ts';
import type { WebArm, WebArmImage } from '../tier.ts';
import { netnsCapabilities } from './capabilities.ts';
import { bootIdFile, powerOffWebArm, powerOnWebArm } from './power.ts';
import { netnsLogs } from './logs.ts';
import { readActive, restartUnit, startNamedUnit, stopNamedUnit, switchUnits } from './unitRunner.ts';
import { webArmEnterArgv, webArmPodmanEnv } from './webArm.ts';

export type NetnsWebArmMachine = SystemMachine & EnteredMachine & NamespaceAbility;

/** The identity of one boot of web-arm here: the boot id its power-on wrote into its /run. */
function emulatedBootId(plan: LabPlan): string {
  const file = bootIdFile(plan);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : '0';
}

export function netnsWebArmMachine(plan: LabPlan, image: Pick<WebArmImage, 'tag' | 'tarball'>): NetnsWebArmMachine {
  const base = createMachine({ name: plan.webArm.node, enter: () => webArmEnterArgv(plan), env: webArmPodmanEnv(plan) });
  return {
    ...base,
    netnsPath: plan.webArm.netnsPath,
    async waitForUnit(unit, timeoutMs = 60_000) {
      const state = await waitUntil(`[${plan.webArm.node}] unit ${unit} to be active (emulated systemd)`, async () => readActive(plan)[unit]?.state, {
        timeoutMs,
        intervalMs: 100,
      });
      if (state === 'failed') throw new LabBrokenError(`[${plan.webArm.node}] unit ${unit} failed instead of becoming active: ${readActive(plan)[unit]?.error ?? ''}`);
    },
    async reboot(progress) {
      const before = emulatedBootId(plan);
      const started = performance.now();
      await progress.step('reboot web-arm (emulated on the netns tier)', async () => {
        await powerOffWebArm(plan, progress);
        await powerOnWebArm(plan, image, progress);
      });
      return {
        realism: 'emulated',
        how: 'emulated: units stopped, processes killed, namespaces recreated, /run wiped, storage kept, units started in unit order',
        identity: 'boot id (emulated: written at each power-on into /run, which power-off wipes)',
        before,
        after: emulatedBootId(plan),
        durationMs: Math.round(performance.now() - started),
      };
    },
  };
}

export function netnsWebArm(plan: LabPlan, image: Pick<WebArmImage, 'tag' | 'tarball'>): WebArm {
  const machine = netnsWebArmMachine(plan, image);
  return {
    tier: 'netns',
    machine,
    capabilities: netnsCapabilities(plan.config),
    layout: (tag) => ({
      etc: plan.webArm.etcDir,
      podmanSocket: plan.webArm.apiSocket,
      image: tag,
      networkConfigDir: plan.webArm.networkConfigDir,
      systemd: 'emulated',
    }),
    // The netns tier bind-mounts its own resolv.conf and hosts (webArm.ts).
    extraFiles: () => ({}),
    switch: (units, files, progress, options = {}) => switchUnits(plan, units, files, progress, { beforeStart: options.beforeStart, start: options.start }),
    afterBaseInstall: async () => undefined,
    restart: (unit, progress) => restartUnit(plan, unit, progress),
    stop: (unit, progress) => stopNamedUnit(plan, unit, progress),
    start: (unit, progress) => startNamedUnit(plan, unit, progress),
    whereabouts: () => ({ kind: 'netns', where: plan.webArm.netnsPath, present: existsSync(plan.webArm.netnsPath) }),
    logs: netnsLogs(plan),
    podmanApi: () => new Docker({ socketPath: plan.webArm.apiSocket }),
  };
}
