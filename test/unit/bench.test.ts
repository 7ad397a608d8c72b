import { describe, expect, it } from 'vitest';
import { renderTable, targetsOf, type BenchResult } from '../../bench/report.ts';

function result(fullMs: { up: number; test: number; down: number } | undefined, floorMs: number | undefined): BenchResult {
  const r: BenchResult = {
    schema: 'v6lab.bench/1',
    startedAt: '2026-01-01T00:00:00.000Z',
    machine: { cpus: 2, arch: 'x64', kernel: '6.1.0', node: 'v24.0.0' },
    lab: 'bench',
    targets: [],
  };
  if (fullMs) {
    r.full = {
      up: { ms: fullMs.up, exitCode: 0 },
      test: { ms: fullMs.test, exitCode: 0, totals: { passed: 7, failed: 0, errored: 0, skipped: 0 } },
      down: { ms: fullMs.down, exitCode: 0 },
      totalMs: fullMs.up + fullMs.test + fullMs.down,
    };
  }
  if (floorMs !== undefined) r.floor = { steps: [{ step: 'everything', ms: floorMs }], totalMs: floorMs, seen: '2001:db8:f::1' };
  if (r.full && r.floor) r.ratio = r.full.totalMs / r.floor.totalMs;
  r.targets = targetsOf(r);
  return r;
}

describe('bench targets', () => {
  it('reports both targets as met or not met, never throws', () => {
    expect(result({ up: 5000, test: 6000, down: 1000 }, 10_000).targets).toEqual([
      { target: 'netns full run ≤ 1.5× floor', value: '1.20×', met: true },
      { target: 'netns full run ≤ 30 s', value: '12.0 s', met: true },
    ]);
    expect(result({ up: 12_000, test: 50_000, down: 2000 }, 9000).targets.map((t) => t.met)).toEqual([false, false]);
  });

  it('has no ratio target when only one side was measured', () => {
    expect(result(undefined, 9000).targets).toEqual([]);
    expect(result({ up: 1000, test: 1000, down: 1000 }, undefined).targets.map((t) => t.target)).toEqual(['netns full run ≤ 30 s']);
  });

  it('renders a Markdown table with every step, the totals, the ratio and the targets', () => {
    const table = renderTable(result({ up: 12_000, test: 50_000, down: 2000 }, 9000));
    expect(table).toContain('| full: lab test | 50.0 s (7 passed, 0 failed, 0 errored) |');
    expect(table).toContain('| **full: total** | **64.0 s** |');
    expect(table).toContain('| floor: everything | 9.0 s |');
    expect(table).toContain('| **ratio full/floor** | **7.11×** |');
    expect(table).toContain('| netns full run ≤ 1.5× floor | 7.11× | not met |');
  });
});
