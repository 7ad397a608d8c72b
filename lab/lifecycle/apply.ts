/**
 * Applying a design to web-arm, like `nixos-rebuild switch`: render the whole system (base +
 * design), install it, start new or changed units, leave unchanged ones running. Idempotent.
 * Works on any started web-arm (lab/tiers/tier.ts); the moments it passes (after the design's
 * other units are up, after its first container started) are where baselines are taken.
 */
import type { DesignPlan } from '../designs/design.ts';
import { probeUnitOf } from '../designs/design.ts';
import { planDesign } from '../designs/registry.ts';
import { renderSystem } from '../designs/system.ts';
import type { Progress } from '../progress.ts';
import type { WebArm } from '../tiers/tier.ts';
import type { LabConfig } from '../topology/config.ts';
import { assertStarted, type SwitchResult } from '../units/results.ts';
import type { UnitSpec } from '../units/model.ts';

/** Installs the production system as it is before the change (no design). */
export async function installBaseSystem(
  webArm: WebArm,
  config: LabConfig,
  image: string,
  progress: Progress,
  options: { startUnits?: boolean } = {},
): Promise<SwitchResult> {
  const base = renderBase(webArm, config, image);
  const result = await webArm.switch(base.units, base.files, progress, { start: options.startUnits ?? true });
  await webArm.afterBaseInstall(progress);
  return result;
}

/**
 * The production system before the change as installBaseSystem installs it: units and files
 * (relative to the layout's etc). What else the install sets (dockerd on or off) is in the config.
 */
export function renderBase(webArm: WebArm, config: LabConfig, image: string): { units: UnitSpec[]; files: Record<string, string> } {
  const system = renderSystem(config, webArm.layout(image));
  return { units: system.units, files: { ...webArm.extraFiles(), ...system.files } };
}

/** The whole system with the config's design, as applyDesign installs it (units, files relative to the layout's etc). Pure. */
export function renderDesign(webArm: Pick<WebArm, 'layout' | 'extraFiles'>, config: LabConfig, image: string): { units: UnitSpec[]; files: Record<string, string>; design: DesignPlan } {
  const layout = webArm.layout(image);
  const design = planDesign(config, layout);
  const system = renderSystem(config, layout, design);
  return { units: system.units, files: { ...webArm.extraFiles(), ...system.files }, design };
}

export interface ApplyResult {
  design: DesignPlan;
  switch: SwitchResult;
}

/** The moments of an apply at which the lifecycle takes baselines. */
export type ApplyMoment = 'after-apply' | 'after-first-container';

/**
 * Applies the config's design. `at` is called after the design's non-container units are up
 * ("after-apply", right before its probe starts) and after its first container started
 * ("after-first-container").
 */
export async function applyDesign(
  webArm: WebArm,
  config: LabConfig,
  image: string,
  progress: Progress,
  options: { at?: (moment: ApplyMoment) => Promise<void>; tolerateFailures?: boolean } = {},
): Promise<ApplyResult> {
  const system = renderDesign(webArm, config, image);
  const design = system.design;
  const probeUnit = probeUnitOf(design.probe);
  let reached = false;
  const sw = await progress.step(`apply design ${design.design}`, () =>
    webArm.switch(system.units, system.files, progress, {
      startLast: [probeUnit],
      beforeStart: async (starting) => {
        if (options.at && !reached && starting === probeUnit) {
          reached = true;
          await options.at('after-apply');
        }
      },
    }),
  );
  if (!options.tolerateFailures) assertStarted({ failed: sw.failed }, `apply ${design.design}`);
  await options.at?.('after-first-container');
  return { design, switch: sw };
}
