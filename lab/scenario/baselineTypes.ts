/**
 * What a named baseline is: the moments of the lab's life it is taken at, the kinds of
 * observation, the reference a scenario declares (lab/scenario/registry.ts) and the label it is
 * stored under. Taking them is lab/scenario/baselines.ts. Pure.
 */
/** When a baseline is taken. */
export const BASELINE_MOMENTS = ['at-up', 'after-apply', 'after-first-container', 'after-reboot'] as const;
export type BaselineMoment = (typeof BASELINE_MOMENTS)[number];

/** What is observed. */
export const BASELINE_KINDS = ['host', 'workload', 'mail'] as const;
export type BaselineKind = (typeof BASELINE_KINDS)[number];

/** A baseline a scenario reads: an observation at a moment. */
export interface BaselineRef {
  kind: BaselineKind;
  moment: BaselineMoment;
}

/** The label the observation is stored under (what the scenario loads it by). */
export function baselineLabel(moment: BaselineMoment): string {
  // "at-up" keeps the label the lab always wrote for it: web-arm before the design is applied.
  return moment === 'at-up' ? 'before-apply' : moment;
}
