/**
 * `scenario(meta, body)`: one story per file, run by vitest against the running lab. The
 * verdict (pass / fail / error, with evidence and tier) is written for `lab test` to report.
 */
import { test } from 'vitest';
import { LabBrokenError, UsageError, VerdictError } from '../errors.ts';
import { onCommand } from '../exec.ts';
import { openLab, type LabContext } from './context.ts';
import type { ScenarioId } from './ids.ts';
import { scenarioEntry } from './registry.ts';
import { createScenarioRun, verdictOf, writeVerdict, type ScenarioRun } from './recorder.ts';
import { skipReason } from './skipReason.ts';

export const SCENARIO_TIMEOUT_MS = 10 * 60_000;

// `lab test --verbose`: every command a scenario runs, with its exit code and duration (once per worker).
const VERBOSE_KEY = Symbol.for('v6lab.scenario.verbose');
if (process.env.V6LAB_VERBOSE === '1' && !(globalThis as Record<symbol, unknown>)[VERBOSE_KEY]) {
  (globalThis as Record<symbol, unknown>)[VERBOSE_KEY] = true;
  onCommand((e) => process.stderr.write(`  $ ${e.command}  [exit ${e.exitCode ?? 'bg'}, ${e.durationMs} ms]\n`));
}

export function labName(): string {
  return process.env.V6LAB_LAB ?? 'main';
}

export function runDir(): string {
  const dir = process.env.V6LAB_RUN_DIR;
  if (!dir) throw new UsageError('V6LAB_RUN_DIR is not set: run scenarios through `pnpm lab test`');
  return dir;
}

export interface ScenarioOptions {
  /** Whether the story can be told on this lab at all: a reason when not (verdict "skipped", never "pass"). */
  appliesTo?: (lab: LabContext) => string | undefined;
}

/**
 * One story: its id names its entry in the scenario registry (title, what it requires, the
 * baselines it reads); the body gets the scenario context.
 */
export function scenario(id: ScenarioId, body: (t: ScenarioRun) => Promise<void>, options: ScenarioOptions = {}): void {
  const meta = scenarioEntry(id);
  test(`${meta.id}: ${meta.title}`, { timeout: meta.timeoutMs ?? SCENARIO_TIMEOUT_MS }, async (ctx) => {
    const dir = runDir();
    const lab = openLab(labName());
    const run = createScenarioRun(meta, lab, dir);
    const expected = lab.design.expectations?.[meta.id];
    const write = (verdict: ReturnType<typeof verdictOf>) => writeVerdict(dir, expected ? { ...verdict, expected } : verdict);
    const skip = (summary: string, why: string) => {
      // Declared by the scenario or the design for this lab: as expected, not a failure, never a pass.
      writeVerdict(dir, { ...verdictOf(run, 'skipped', 0), expected: 'skipped', summary });
      ctx.skip(why);
    };
    const reason = skipReason({
      entry: meta,
      capabilities: lab.capabilities,
      tier: lab.state.tier,
      config: lab.state.config,
      design: lab.design.design,
      expected,
      notApplicable: () => options.appliesTo?.(lab),
    });
    if (reason) return skip(reason.summary, reason.why);
    const started = performance.now();
    try {
      await body(run);
      // Observations recorded without throwing (record) still decide the verdict.
      const failed = run.evidence.find((e) => !e.ok);
      if (failed) throw new VerdictError(failed.check, failed.expected, failed.seen);
    } catch (error) {
      write(verdictOf(run, error instanceof VerdictError ? 'fail' : 'error', performance.now() - started, error));
      // A failure the design declares is its intended behaviour, not a broken run.
      if (error instanceof VerdictError && expected === 'fail') return;
      throw error;
    }
    if (run.evidence.length === 0) {
      const error = new LabBrokenError(`scenario ${meta.id} recorded no evidence: a scenario that checks nothing cannot pass`);
      write(verdictOf(run, 'error', performance.now() - started, error));
      throw error;
    }
    write(verdictOf(run, 'pass', performance.now() - started));
    if (expected === 'fail') throw new VerdictError(`scenario ${meta.id} on design ${lab.design.design}`, 'fail (the design declares it fails)', 'pass');
  });
}
