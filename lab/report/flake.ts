/**
 * The flake rate of `lab test --repeat N`: the same suite run N times on the same lab, and per
 * scenario how many runs gave a verdict other than the one its design declares (an error is
 * never declared). The verdicts of every run, in order, stay beside the count, so a reader sees
 * whether a scenario flips once or drifts for good. Pure: reports in, a model and text out.
 */
import { isUnexpected, type RunReport, type VerdictStatus } from './model.ts';

export interface ScenarioFlake {
  id: string;
  /** What the design declares (pass when it declares nothing). */
  declared: VerdictStatus;
  /** The verdict of each run, in run order. */
  verdicts: VerdictStatus[];
  /** How many runs differed from the declaration. */
  differed: number;
  /** The first line of what went wrong in the first run that differed. */
  firstDifference?: string;
}

export interface FlakeReport {
  schema: 'v6lab.flake/1';
  lab: string;
  design: string;
  tier: RunReport['tier'];
  runs: number;
  /** Each run's duration, in run order. */
  runDurationsMs: number[];
  scenarios: ScenarioFlake[];
  /** Scenarios with at least one run that differed, and runs with at least one difference. */
  totals: { scenarios: number; flakyScenarios: number; runsWithADifference: number };
}

/** The flake report of runs of one suite on one lab (scenarios in the first run's order). */
export function flakeReport(reports: readonly RunReport[]): FlakeReport {
  const first = reports[0];
  if (!first) throw new RangeError('a flake report needs at least one run');
  const ids = [...new Set(reports.flatMap((r) => r.scenarios.map((s) => s.id)))];
  const scenarios = ids.map((id): ScenarioFlake => {
    const verdicts = reports.map((r) => r.scenarios.find((s) => s.id === id));
    const declared = verdicts.find((v) => v?.expected)?.expected ?? 'pass';
    const differing = verdicts.filter((v) => !v || isUnexpected(v));
    const firstDiffering = differing[0];
    const firstDifference = firstDiffering ? (firstDiffering.error ?? firstDiffering.summary).split('\n')[0] : verdicts.includes(undefined) ? 'not run' : undefined;
    return {
      id,
      declared,
      // A run without this scenario's verdict counts as an error: it did not run.
      verdicts: verdicts.map((v) => v?.status ?? 'error'),
      differed: differing.length,
      ...(firstDifference !== undefined ? { firstDifference } : {}),
    };
  });
  return {
    schema: 'v6lab.flake/1',
    lab: first.lab,
    design: first.design,
    tier: first.tier,
    runs: reports.length,
    runDurationsMs: reports.map((r) => r.durationMs),
    scenarios,
    totals: {
      scenarios: scenarios.length,
      flakyScenarios: scenarios.filter((s) => s.differed > 0).length,
      runsWithADifference: reports.filter((r) => r.scenarios.some(isUnexpected) || r.scenarios.length < ids.length).length,
    },
  };
}

const MARK: Record<VerdictStatus, string> = { pass: 'P', fail: 'F', error: 'E', skipped: 'S' };

/** The flake table: one row a scenario (declared, each run's verdict as a letter, differed/N), then the closing line. */
export function renderFlakeTable(flake: FlakeReport): string {
  const width = Math.max(8, ...flake.scenarios.map((s) => s.id.length));
  const header = `${'scenario'.padEnd(width)}  declared  runs (P pass, F fail, E error, S skipped)  differed`;
  const rows = flake.scenarios.map(
    (s) =>
      `${s.id.padEnd(width)}  ${s.declared.padEnd(8)}  ${s.verdicts.map((v) => MARK[v]).join('').padEnd(41)}  ${s.differed}/${flake.runs}${s.differed > 0 && s.firstDifference ? `  ⚠ ${s.firstDifference}` : ''}`,
  );
  return [header, ...rows, '', flakeClosingLine(flake)].join('\n') + '\n';
}

/** "0 of 21 scenarios differed from their declaration in 10 runs (design v6egress, netns)". */
export function flakeClosingLine(flake: FlakeReport): string {
  return `${flake.totals.flakyScenarios} of ${flake.totals.scenarios} scenarios differed from their declaration in ${flake.runs} runs (${flake.totals.runsWithADifference} run(s) with a difference; design ${flake.design}, ${flake.tier})`;
}

/** 0: no run differed from the declarations; 1: one did. */
export function exitCodeOfFlake(flake: FlakeReport): number {
  return flake.totals.flakyScenarios === 0 ? 0 : 1;
}
