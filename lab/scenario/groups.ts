/**
 * Which scenarios may run side by side. Pure.
 *
 * An observing scenario only looks at the lab: probes, captures, reads of state and
 * snapshots, or things of its own that no other scenario touches. It applies nothing, starts,
 * stops or restarts nothing, changes no rule, route, sysctl or network of a shared node.
 * On the netns tier the observing scenarios run first, side by side; then every other
 * scenario runs alone, in file order, as before (they build on each other's effects:
 * redeploy, then reboot, then the faults). Reports list scenarios in file order whatever
 * order they ran in. Other tiers run every scenario alone, in file order.
 */

/** Observing scenarios and what each does to the lab (nothing shared). */
export const OBSERVING_SCENARIOS: Readonly<Record<string, string>> = {
  'egress-nat66': 'probes from the v6egress container; a capture on the router link',
  'egress-v4': 'a probe from the v6egress container',
  'isolation-default': "probes from and to the default-network containers; reads their state and the default network",
  'host-unchanged': "reads web-arm's addresses, routes and sysctls; a probe from web-arm",
  'no-inbound': 'probes from the internet and from web-arm',
  'ra-control': "a namespace and a router port of its own (removed at its end); sysctls only in its own namespace",
  'inbound-reachability': 'probes from the internet; reads the router\'s neighbour table',
  'host-64-touched': "reads web-arm's addresses, routes and neighbour proxies",
};

export function isObserving(id: string): boolean {
  return Object.hasOwn(OBSERVING_SCENARIOS, id);
}

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
