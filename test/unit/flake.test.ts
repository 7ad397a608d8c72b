/**
 * `lab test --repeat N`'s flake rate (lab/report/flake.ts): per scenario, how many runs
 * differed from the design's declaration; the table, the closing line, the exit code; and the
 * --repeat flag's bounds. Pure.
 */
import { describe, expect, it } from 'vitest';
import { parseRepeat } from '../../lab/cli/test.ts';
import { UsageError } from '../../lab/errors.ts';
import { exitCodeOfFlake, flakeClosingLine, flakeReport, renderFlakeTable } from '../../lab/report/flake.ts';
import type { RunReport, ScenarioVerdict, VerdictStatus } from '../../lab/report/model.ts';

function verdict(id: string, status: VerdictStatus, expected?: VerdictStatus, error?: string): ScenarioVerdict {
  return { id, title: id, status, tier: 'netns', realism: 'real', design: 'v6egress', durationMs: 10, summary: `${id} ${status}`, evidence: [], ...(expected ? { expected } : {}), ...(error ? { error } : {}) };
}

function run(durationMs: number, ...scenarios: ScenarioVerdict[]): RunReport {
  return {
    schema: 'v6lab.report/1',
    lab: 'fl',
    design: 'v6egress',
    tier: 'netns',
    startedAt: '2026-12-06T09:00:00.000Z',
    finishedAt: '2026-12-06T09:01:00.000Z',
    durationMs,
    scenarios,
    totals: { passed: 0, failed: 0, errored: 0, skipped: 0 },
  };
}

describe('flakeReport', () => {
  const reports = [
    run(40_000, verdict('egress-nat66', 'pass'), verdict('inbound-reachability', 'fail', 'fail'), verdict('router-outage', 'pass')),
    run(41_000, verdict('egress-nat66', 'pass'), verdict('inbound-reachability', 'fail', 'fail'), verdict('router-outage', 'fail', undefined, 'egress did not recover\nmore')),
    run(39_000, verdict('egress-nat66', 'pass'), verdict('inbound-reachability', 'fail', 'fail'), verdict('router-outage', 'error', undefined, 'lab broke')),
  ];

  it('counts, per scenario, the runs whose verdict differs from the declaration (a declared failure is not a difference)', () => {
    const flake = flakeReport(reports);
    expect(flake.scenarios).toEqual([
      { id: 'egress-nat66', declared: 'pass', verdicts: ['pass', 'pass', 'pass'], differed: 0 },
      { id: 'inbound-reachability', declared: 'fail', verdicts: ['fail', 'fail', 'fail'], differed: 0 },
      { id: 'router-outage', declared: 'pass', verdicts: ['pass', 'fail', 'error'], differed: 2, firstDifference: 'egress did not recover' },
    ]);
    expect(flake.totals).toEqual({ scenarios: 3, flakyScenarios: 1, runsWithADifference: 2 });
    expect(flake.runDurationsMs).toEqual([40_000, 41_000, 39_000]);
    expect(exitCodeOfFlake(flake)).toBe(1);
  });

  it('a scenario missing from a run counts as an error of that run', () => {
    const flake = flakeReport([run(1, verdict('a', 'pass'), verdict('b', 'pass')), run(1, verdict('a', 'pass'))]);
    expect(flake.scenarios[1]).toEqual({ id: 'b', declared: 'pass', verdicts: ['pass', 'error'], differed: 1, firstDifference: 'not run' });
    expect(flake.totals.runsWithADifference).toBe(1);
  });

  it('renders a row per scenario with each run as a letter, and the closing line', () => {
    const table = renderFlakeTable(flakeReport(reports));
    expect(table).toContain('router-outage         pass      PFE');
    expect(table).toMatch(/router-outage .* 2\/3  ⚠ egress did not recover/);
    expect(table.trimEnd().split('\n').at(-1)).toBe('1 of 3 scenarios differed from their declaration in 3 runs (2 run(s) with a difference; design v6egress, netns)');
    const clean = flakeReport([reports[0]!, reports[0]!]);
    expect(flakeClosingLine(clean)).toMatch(/^0 of 3 scenarios differed .* in 2 runs/);
    expect(exitCodeOfFlake(clean)).toBe(0);
  });

  it('needs at least one run', () => {
    expect(() => flakeReport([])).toThrow(RangeError);
  });
});

describe('--repeat', () => {
  it('takes 1 to 100 runs and names the fix otherwise', () => {
    expect(parseRepeat(undefined)).toBe(1);
    expect(parseRepeat('10')).toBe(10);
    for (const bad of ['0', '101', '2.5', 'ten', '-1']) {
      expect(() => parseRepeat(bad), bad).toThrow(UsageError);
      expect(() => parseRepeat(bad), bad).toThrow(/Fix: e.g. --repeat 10/);
    }
  });
});
