/**
 * `scenario(meta, body)`: one story per file, run by vitest against the running lab. The
 * verdict (pass / fail / error, with evidence and tier) is written for `lab test` to report.
 */
import { test } from 'vitest';
import { VerdictError } from '../errors.ts';
import { onCommand } from '../exec.ts';
import { openLab } from '../lifecycle/context.ts';
import { createScenarioRun, verdictOf, writeVerdict, type ScenarioMeta, type ScenarioRun } from './recorder.ts';

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
  if (!dir) throw new Error('V6LAB_RUN_DIR is not set: run scenarios through `pnpm lab test`');
  return dir;
}

export function scenario(meta: ScenarioMeta, body: (t: ScenarioRun) => Promise<void>): void {
  test(`${meta.id}: ${meta.title}`, { timeout: meta.timeoutMs ?? SCENARIO_TIMEOUT_MS }, async (ctx) => {
    const dir = runDir();
    const lab = openLab(labName());
    const run = createScenarioRun(meta, lab, dir);
    const expected = lab.design.expectations?.[meta.id];
    const write = (verdict: ReturnType<typeof verdictOf>) => writeVerdict(dir, expected ? { ...verdict, expected } : verdict);
    const tiers = meta.tiers;
    if (tiers && !tiers.only.includes(lab.state.tier)) {
      // Declared by the scenario for this tier: as expected, not a failure, never a pass.
      writeVerdict(dir, { ...verdictOf(run, 'skipped', 0), expected: 'skipped', summary: `runs on the ${tiers.only.join(' or ')} tier only: ${tiers.why}` });
      ctx.skip(`not on the ${lab.state.tier} tier`);
      return;
    }
    const notApplicable = meta.appliesTo?.(lab);
    if (notApplicable) {
      writeVerdict(dir, { ...verdictOf(run, 'skipped', 0), expected: 'skipped', summary: `does not apply here: ${notApplicable}` });
      ctx.skip(notApplicable);
      return;
    }
    if (meta.variant && !meta.variant.test(lab.state.config)) {
      writeVerdict(dir, { ...verdictOf(run, 'skipped', 0), expected: 'skipped', summary: `does not apply here: ${meta.variant.why}` });
      ctx.skip('not on this topology variant');
      return;
    }
    if (expected === 'skipped') {
      write({ ...verdictOf(run, 'skipped', 0), summary: `does not apply to design ${lab.design.design} (declared by the design)` });
      ctx.skip(`does not apply to design ${lab.design.design}`);
      return;
    }
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
      const error = new Error(`scenario ${meta.id} recorded no evidence: a scenario that checks nothing cannot pass`);
      write(verdictOf(run, 'error', performance.now() - started, error));
      throw error;
    }
    write(verdictOf(run, 'pass', performance.now() - started));
    if (expected === 'fail') throw new Error(`scenario ${meta.id} passed, but design ${lab.design.design} declares it fails`);
  });
}
