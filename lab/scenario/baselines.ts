/**
 * Named baselines: observations of web-arm taken at moments of the lab's life (at up, after the
 * design's units are up, after its first container, after a reboot) that scenarios compare with
 * later. Scenarios declare the baselines they read (lab/scenario/registry.ts); the lifecycle
 * calls `takeBaselines(moment, …)` at each moment and takes what any scenario declared for it,
 * without knowing which scenario wants it. Not pure: it runs commands on web-arm and writes
 * the observations to the lab's state directory.
 */
import type { Machine } from '../nodes/machine.ts';
import type { Progress } from '../progress.ts';
import type { WebArm } from '../tiers/tier.ts';
import type { LabPlan } from '../topology/plan.ts';
import { saveSnapshot, takeHostSnapshot } from './observe/hostSnapshot.ts';
import { observeMailPath, saveMailObservation } from './observe/mailPath.ts';
import { saveWorkloadSnapshot, takeWorkloadSnapshot } from './observe/workloadSnapshot.ts';
import { baselineLabel, type BaselineKind, type BaselineMoment, type BaselineRef } from './baselineTypes.ts';
import { declaredBaselines } from './registry.ts';

export interface BaselineTarget {
  plan: LabPlan;
  webArm: WebArm;
  /** The internet's mail exchanger (for the mail path). */
  mx?: Machine;
  progress: Progress;
}

/** Takes every baseline that a registered scenario declared for this moment. */
export async function takeBaselines(moment: BaselineMoment, target: BaselineTarget, wanted: readonly BaselineRef[] = declaredBaselines()): Promise<BaselineKind[]> {
  const kinds = [...new Set(wanted.filter((b) => b.moment === moment).map((b) => b.kind))];
  const { plan, webArm } = target;
  const label = baselineLabel(moment);
  const taken: BaselineKind[] = [];
  // web-arm's own state (uplink, workload): side by side where web-arm answers several commands at once.
  const reads = kinds.filter((k) => k === 'host' || k === 'workload');
  const read = async (kind: BaselineKind): Promise<void> => {
    if (kind === 'host') saveSnapshot(plan.stateDir, await takeHostSnapshot(webArm.machine, plan.config.webArm.uplink, label));
    else saveWorkloadSnapshot(plan.stateDir, await takeWorkloadSnapshot(webArm.machine, label));
  };
  if (webArm.capabilities.concurrentCommands) await Promise.all(reads.map(read));
  else for (const kind of reads) await read(kind);
  taken.push(...reads);
  if (kinds.includes('mail') && webArm.capabilities.postfix && target.mx) {
    // web-arm's postfix sending to mx.example, where the tier runs postfix.
    const mx = target.mx;
    const mail = await target.progress.step(`mail path ${label} (postfix → mx.example)`, () => observeMailPath(plan.config, webArm.machine, mx, label));
    saveMailObservation(plan.stateDir, mail);
    target.progress.note(mail.received ? `mail left web-arm from ${mail.received.client}` : 'the probe mail did not arrive (the mail-path scenario will say so)');
    taken.push('mail');
  }
  return taken;
}
