/**
 * The verbs, one file each; this is their registry.
 */
import { applyVerb } from './apply.ts';
import { compareVerb } from './compare.ts';
import { captureVerb } from './capture.ts';
import { downVerb } from './down.ts';
import { execVerb } from './exec.ts';
import { exportVerb } from './export.ts';
import { graphVerb } from './graph.ts';
import { helpVerb } from './help.ts';
import { logsVerb } from './logs.ts';
import { rebootVerb } from './reboot.ts';
import { reportVerb } from './report.ts';
import { shellVerb } from './shell.ts';
import { snapshotVerb } from './snapshot.ts';
import { statusVerb } from './status.ts';
import { testVerb } from './test.ts';
import { upVerb } from './up.ts';
import type { Verb } from './verb.ts';

export type { Verb } from './verb.ts';

export const VERBS: Record<string, Verb> = {
  up: upVerb,
  test: testVerb,
  down: downVerb,
  status: statusVerb,
  apply: applyVerb,
  compare: compareVerb,
  reboot: rebootVerb,
  exec: execVerb,
  shell: shellVerb,
  logs: logsVerb,
  capture: captureVerb,
  graph: graphVerb,
  report: reportVerb,
  export: exportVerb,
  snapshot: snapshotVerb,
  help: helpVerb(() => VERBS),
};
