/**
 * The scenario ids, in run order: derived once here (a scenario file is
 * scenarios/NN-<id>.scenario.ts, NN its place in this list, checked by a unit test). Designs'
 * declared verdicts are typed against these ids. Pure.
 */
export const SCENARIO_IDS = [
  'egress-nat66',
  'egress-v4',
  'isolation-default',
  'host-unchanged',
  'idempotent-redeploy',
  'idempotent-reboot',
  'no-inbound',
  'container-dns',
  'router-outage',
  'firewall-reload',
  'drift',
  'subnet-collision',
  'ra-control',
  'inbound-reachability',
  'host-64-touched',
  'mail-path',
  'docker-coexistence',
  'inbound-portfwd',
  'xlat-default-v4',
  'nspawn-port-forward',
  'nspawn-proxy-ndp',
  'mail-from-container',
] as const;

export type ScenarioId = (typeof SCENARIO_IDS)[number];

export function isScenarioId(id: string): id is ScenarioId {
  return (SCENARIO_IDS as readonly string[]).includes(id);
}

/** A design's declared verdict per scenario where it is not "pass". */
export type DeclaredVerdicts = Partial<Record<ScenarioId, 'fail' | 'skipped'>>;
