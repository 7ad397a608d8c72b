/**
 * Applying a design to web-arm, like `nixos-rebuild switch`: render the whole system (base +
 * design), install it, start new or changed units, leave unchanged ones running. Idempotent.
 */
import type { DesignPlan } from '../designs/design.ts';
import { probeUnitOf } from '../designs/design.ts';
import { planDesign } from '../designs/registry.ts';
import { renderSystem } from '../designs/system.ts';
import { assertStarted, type SwitchResult } from '../tiers/netns/unitRunner.ts';
import { webArmSystem } from '../nodes/webArmSystem.ts';
import type { Machine } from '../nodes/machine.ts';
import type { Progress } from '../progress.ts';
import { saveSnapshot, takeHostSnapshot } from '../scenario/observe/hostSnapshot.ts';
import type { LabState } from '../state/store.ts';
import type { LabPlan } from '../topology/plan.ts';
import type { UnitSpec } from '../units/model.ts';
import { guestEtcFiles } from '../tiers/qemu/guestEtc.ts';

/** Installs the production system as it is before the change (no design). */
export async function installBaseSystem(
  plan: LabPlan,
  image: string,
  progress: Progress,
  options: { startUnits?: boolean } = {},
): Promise<SwitchResult> {
  const base = renderBase(plan, image);
  const host = webArmSystem(plan);
  const result = await host.switch(base.units, base.files, progress, { start: options.startUnits ?? true });
  if (plan.config.lab.tier === 'qemu' && plan.config.lab.guest === 'debian') await setDockerd(host.machine, plan.config.webArm.docker.enabled, progress);
  return result;
}

/**
 * The production system before the change as installBaseSystem installs it: units and files
 * (relative to the layout's etc). What else the install sets (dockerd on or off) is in the config.
 */
export function renderBase(plan: LabPlan, image: string): { units: UnitSpec[]; files: Record<string, string> } {
  const system = renderSystem(plan.config, webArmSystem(plan).layout(image));
  return { units: system.units, files: { ...extraFiles(plan), ...system.files } };
}

/**
 * dockerd on or off, as webArm.docker.enabled says (Debian's docker.io enables it at install,
 * as production's virtualisation.docker.enable does).
 */
async function setDockerd(machine: Machine, enabled: boolean, progress: Progress): Promise<void> {
  const command = enabled ? 'systemctl enable --now docker.service' : 'systemctl disable --now docker.socket docker.service';
  await progress.step(`dockerd ${enabled ? 'on (as production)' : 'off (webArm.docker.enabled=false)'}`, () => machine.succeed(command, { timeoutMs: 180_000 }));
}

export interface ApplyResult {
  design: DesignPlan;
  switch: SwitchResult;
}

/**
 * Applies the config's design. When snapshots is set, web-arm's host state is recorded
 * after the design's non-container units are up ("after-apply") and after its first
 * container started ("after-first-container").
 */
export async function applyDesign(
  plan: LabPlan,
  state: LabState,
  progress: Progress,
  options: { snapshots?: boolean; tolerateFailures?: boolean } = {},
): Promise<ApplyResult> {
  const image = state.image?.tag ?? '';
  const host = webArmSystem(plan);
  const design = planDesign(plan.config, host.layout(image));
  const system = renderSystem(plan.config, host.layout(image), design);
  const uplink = plan.config.webArm.uplink;
  const machine = host.machine;
  const probeUnit = probeUnitOf(design.probe);
  let snapshotted = false;
  const sw = await progress.step(`apply design ${design.design}`, () =>
    host.switch(system.units, { ...extraFiles(plan), ...system.files }, progress, {
      startLast: [probeUnit],
      beforeStart: async (starting) => {
        if (options.snapshots && !snapshotted && starting === probeUnit) {
          snapshotted = true;
          saveSnapshot(plan.stateDir, await takeHostSnapshot(machine, uplink, 'after-apply'));
        }
      },
    }),
  );
  if (!options.tolerateFailures) assertStarted({ started: [], failed: sw.failed }, `apply ${design.design}`);
  if (options.snapshots) {
    saveSnapshot(plan.stateDir, await takeHostSnapshot(machine, uplink, 'after-first-container'));
  }
  return { design, switch: sw };
}

/** Files the tier's OS needs beside the rendering: the guest's resolver (the netns tier bind-mounts its own). */
function extraFiles(plan: LabPlan): Record<string, string> {
  return plan.config.lab.tier === 'qemu' && plan.config.lab.guest === 'debian' ? guestEtcFiles(plan.config) : {};
}
