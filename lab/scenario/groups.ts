/**
 * Which scenarios may run side by side, and how `lab test` tells its vitest run. Pure.
 *
 * An observing scenario only looks at the lab: probes, captures, reads of state and
 * snapshots, or things of its own that no other scenario touches. It applies nothing, starts,
 * stops or restarts nothing, changes no rule, route, sysctl or network of a shared node.
 * Where web-arm takes commands from several processes at once (the netns tier) the observing
 * scenarios run first, side by side; then every other
 * scenario runs alone, in file order, as before (they build on each other's effects:
 * redeploy, then reboot, then the faults). Reports list scenarios in file order whatever
 * order they ran in. Other tiers run every scenario alone, in file order.
 */

/** Whether a scenario only observes (its registry entry says what it does). */
export { isObserving } from './registry.ts';

/** The scenario id of a file name (`NN-<id>.scenario.ts`). */
export function scenarioIdOf(fileName: string): string {
  return fileName.replace(/^.*\//, '').replace(/^\d+-/, '').replace(/\.scenario\.ts$/, '');
}

/** How many observing scenarios run at once (they mostly wait on the network, not the CPU). */
export const OBSERVING_WORKERS = 4;

/** The environment variable `lab test` sets when the observing scenarios may run side by side (the netns tier). */
export const SIDE_BY_SIDE_ENV = 'V6LAB_SCENARIOS_SIDE_BY_SIDE';

/** The environment variable naming the scenarios (ids, comma-separated) `lab test` runs. */
export const SCENARIO_IDS_ENV = 'V6LAB_SCENARIO_IDS';
