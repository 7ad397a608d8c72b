/**
 * `scenario(meta, body)`: one story per file, run by vitest against the running lab. The
 * verdict (pass / fail / error, with evidence and tier) is written for `lab test` to report.
 */
import { test } from 'vitest';
import { VerdictError } from '../errors.ts';
import { openLab } from '../lifecycle/context.ts';
import { createScenarioRun, verdictOf, writeVerdict, type ScenarioMeta, type ScenarioRun } from './recorder.ts';

export const SCENARIO_TIMEOUT_MS = 10 * 60_000;

export function labName(): string {
  return process.env.V6LAB_LAB ?? 'main';
}

export function runDir(): string {
  const dir = process.env.V6LAB_RUN_DIR;
  if (!dir) throw new Error('V6LAB_RUN_DIR is not set: run scenarios through `pnpm lab test`');
  return dir;
}

export function scenario(meta: ScenarioMeta, body: (t: ScenarioRun) => Promise<void>): void {
  test(`${meta.id}: ${meta.title}`, { timeout: SCENARIO_TIMEOUT_MS }, async () => {
    const dir = runDir();
    const lab = openLab(labName());
    const run = createScenarioRun(meta, lab, dir);
    const started = performance.now();
    try {
      await body(run);
    } catch (error) {
      writeVerdict(dir, verdictOf(run, error instanceof VerdictError ? 'fail' : 'error', performance.now() - started, error));
      throw error;
    }
    if (run.evidence.length === 0) {
      const error = new Error(`scenario ${meta.id} recorded no evidence: a scenario that checks nothing cannot pass`);
      writeVerdict(dir, verdictOf(run, 'error', performance.now() - started, error));
      throw error;
    }
    writeVerdict(dir, verdictOf(run, 'pass', performance.now() - started));
  });
}
