import { describe, expect, it } from 'vitest';
import { parseAnalyzeTime, parseBlame, parseChainReached, parseCriticalChain, parseSystemdSpan } from '../../bench/bootProfile.ts';
import { renderTable, targetsOf, TARGETS, type BenchResult } from '../../bench/report.ts';
import { accountTime, clipIntervals, coveredMs, mergeIntervals, parseTimeLog, renderTimeRecord, sumAccounts, type TimeAccount } from '../../lab/timeAccount.ts';

function account(wallMs: number, commandsMs: number, waitsMs: number): TimeAccount {
  const overheadMs = wallMs - commandsMs - waitsMs;
  return { wallMs, commandsMs, waitsMs, overheadMs, overheadShare: overheadMs / wallMs, commands: 10, waits: 2 };
}

function netns(fullMs: { up: number; test: number; down: number }, time?: TimeAccount): BenchResult {
  const r: BenchResult = {
    schema: 'v6lab.bench/2',
    startedAt: '2026-01-01T00:00:00.000Z',
    machine: { cpus: 2, arch: 'x64', kernel: '6.1.0', node: 'v24.0.0' },
    lab: 'bench',
    targets: [],
    full: {
      up: { ms: fullMs.up, exitCode: 0 },
      test: { ms: fullMs.test, exitCode: 0, totals: { passed: 7, failed: 0, errored: 0, skipped: 1 } },
      down: { ms: fullMs.down, exitCode: 0 },
      totalMs: fullMs.up + fullMs.test + fullMs.down,
      ...(time ? { time: { total: time, test: time } } : {}),
      scenarios: [
        { id: 'egress-nat66', status: 'pass', ms: 1200 },
        { id: 'idempotent-reboot', status: 'pass', ms: 7100 },
      ],
    },
  };
  r.targets = targetsOf(r);
  return r;
}

describe('time accounting', () => {
  it('merges overlapping and touching intervals, counting wall time covered once', () => {
    expect(mergeIntervals([[5, 7], [0, 2], [1, 3], [3, 4], [10, 10], [9, 8]])).toEqual([[0, 4], [5, 7]]);
    expect(coveredMs(mergeIntervals([[0, 10], [2, 3], [5, 12]]))).toBe(12);
    expect(clipIntervals([[0, 10], [20, 30]], [5, 25])).toEqual([[5, 10], [20, 25]]);
  });

  it('splits wall time into commands, waits not under a command, and overhead', () => {
    const a = accountTime(
      [
        { kind: 'command', start: 0, end: 40 },
        { kind: 'command', start: 20, end: 50 }, // side by side: 0..50 once
        { kind: 'wait', start: 45, end: 60 }, // 50..60 is wait time
        { kind: 'wait', start: 70, end: 75 },
      ],
      100,
    );
    expect(a).toMatchObject({ wallMs: 100, commandsMs: 50, waitsMs: 15, overheadMs: 35, commands: 2, waits: 2 });
    expect(a.overheadShare).toBeCloseTo(0.35);
  });

  it('clips to the timed window and never reports negative overhead', () => {
    const a = accountTime([{ kind: 'command', start: -10, end: 120 }], 100, [0, 100]);
    expect(a).toMatchObject({ commandsMs: 100, overheadMs: 0 });
    expect(accountTime([], 0).overheadShare).toBe(0);
  });

  it('adds accounts of steps run one after another', () => {
    const s = sumAccounts([account(100, 50, 10), account(300, 200, 20)]);
    expect(s).toMatchObject({ wallMs: 400, commandsMs: 250, waitsMs: 30, overheadMs: 120, commands: 20, waits: 4 });
    expect(s.overheadShare).toBeCloseTo(0.3);
  });

  it('reads back the log it writes, skipping torn lines', () => {
    const text = renderTimeRecord({ kind: 'command', start: 1.25, end: 3 }) + '{"k":"c","s":1' + '\n' + renderTimeRecord({ kind: 'wait', start: 4, end: 5 });
    expect(parseTimeLog(text)).toEqual([
      { kind: 'command', start: 1.3, end: 3 },
      { kind: 'wait', start: 4, end: 5 },
    ]);
  });
});

describe('bench targets', () => {
  it('lists every target of the issue; what was not measured says how, and is never met', () => {
    const r = netns({ up: 3000, test: 15_000, down: 1000 }, account(19_000, 16_000, 1500));
    expect(r.targets.map((t) => [t.measured, t.met])).toEqual([
      [true, true],
      [true, true],
      [true, true],
      [false, false],
      [false, false],
      [false, false],
      [false, false],
    ]);
    expect(r.targets[0]).toMatchObject({ target: 'netns full run (up + every scenario + down) ≤ 20 s', value: '19.0 s' });
    expect(r.targets[2]!.value).toBe('7.9 % (1.5 s of 19.0 s)');
    expect(r.targets[6]).toMatchObject({ value: 'not measured (run pnpm bench --host qemu --compare)', met: false, measured: false });
  });

  it('judges each netns target against its bound', () => {
    const r = netns({ up: 8000, test: 40_000, down: 1300 }, account(49_300, 30_000, 10_000));
    expect(r.targets.slice(0, 3).map((t) => t.met)).toEqual([false, false, false]);
    expect(netns({ up: 4000, test: 15_000, down: 1000 }).targets[1]!.met).toBe(true);
    // No time log: overhead not measured, not met.
    expect(netns({ up: 1000, test: 1000, down: 1000 }).targets[2]).toMatchObject({ measured: false, met: false });
  });

  it('a failed lab up meets no target', () => {
    const r = netns({ up: 1000, test: 1000, down: 1000 }, account(3000, 2900, 0));
    r.full!.up.exitCode = 1;
    expect(targetsOf(r).slice(0, 3).map((t) => t.met)).toEqual([false, false, false]);
  });

  it('qemu: the design-seen-before target needs a design-applied restore; reboot, suite and compare against their bounds', () => {
    const r: BenchResult = { ...netns({ up: 1, test: 1, down: 1 }), full: undefined } as BenchResult;
    delete r.full;
    r.qemu = {
      arch: 'x86_64',
      accel: 'tcg',
      up: { ms: 9000, exitCode: 0, start: 'restore-applied', restoreMs: 7000 },
      cleanUp: { ms: 70_000, exitCode: 0, start: 'restore', restoreMs: 9000 },
      bootToReadyMs: 0,
      reboot: { ms: 50_000, exitCode: 0, rebootMs: 41_000 },
      down: { ms: 2000, exitCode: 0 },
      suite: { ms: TARGETS.qemuSuiteMs - 1, exitCode: 0, totals: { passed: 10, failed: 1, errored: 0, skipped: 3 } },
    };
    const t = targetsOf(r);
    expect(t.slice(0, 3).every((x) => !x.measured)).toBe(true);
    expect(t.slice(3).map((x) => [x.measured, x.met])).toEqual([
      [true, true],
      [true, true],
      [true, false],
      [false, false],
    ]);
    r.qemu.up = { ms: 9000, exitCode: 0, start: 'restore', restoreMs: 7000 };
    expect(targetsOf(r)[3]).toMatchObject({ measured: true, met: false });
    expect(targetsOf(r)[3]!.value).toContain('no design-applied restore');
  });
});

describe('boot profile', () => {
  it('reads systemd spans', () => {
    expect(parseSystemdSpan('1min 2.345s')).toBe(62_345);
    expect(parseSystemdSpan('345ms')).toBe(345);
    expect(parseSystemdSpan('800us')).toBe(1);
    expect(parseSystemdSpan('soon')).toBeUndefined();
  });

  it('reads systemd-analyze time, blame and critical-chain', () => {
    const time = parseAnalyzeTime('Startup finished in 2.101s (kernel) + 5.512s (initrd) + 38.7s (userspace) = 46.313s \nmulti-user.target reached after 38.650s in userspace.\n');
    expect(time).toEqual({ kernelMs: 2101, initrdMs: 5512, userspaceMs: 38_700, totalMs: 46_313, multiUserMs: 38_650 });
    expect(parseAnalyzeTime('Startup finished in 3s (kernel) + 1min 1s (userspace) = 1min 4s\n')).toMatchObject({ kernelMs: 3000, userspaceMs: 61_000, totalMs: 64_000 });
    expect(parseBlame('  1.5s a.service\n1min 2s b.service\n 30ms c.mount\nnoise\n', 2)).toEqual([
      { unit: 'b.service', ms: 62_000 },
      { unit: 'a.service', ms: 1500 },
    ]);
    const chain = parseCriticalChain('The time when unit became active or started is printed after the "@" character.\nThe time the unit took to start is printed after the "+" character.\n\nmulti-user.target @38.6s\n└─postfix.service @30.1s +8.4s\n');
    expect(chain).toEqual(['multi-user.target @38.6s', '└─postfix.service @30.1s +8.4s']);
    expect(parseChainReached('x\nmulti-user.target @4min 47.056s\n└─a.service @2min +1s\n')).toBe(287_056);
    expect(parseChainReached('nothing')).toBeUndefined();
  });
});

describe('bench table', () => {
  it('renders the steps, where the time goes, per-scenario times and every target', () => {
    const table = renderTable(netns({ up: 12_000, test: 50_000, down: 2000 }, account(64_000, 40_000, 8000)));
    expect(table).toContain('| full: lab test | 50.0 s (7 passed, 0 failed, 0 errored, 1 skipped) |');
    expect(table).toContain('| **full: total** | **64.0 s** |');
    expect(table).toContain('| **full run** | 64.0 s |');
    expect(table).toContain('| lab test | 64.0 s | 40.0 s (10) | 8.0 s (2) | 16.0 s (25.0 %) |');
    expect(table.indexOf('| idempotent-reboot | pass | 7.1 s |')).toBeLessThan(table.indexOf('| egress-nat66 | pass | 1.2 s |'));
    expect(table).toContain('| netns framework overhead ≤ 10 % of wall time | 25.0 % (16.0 s of 64.0 s) | not met |');
    expect(table).toContain('| qemu one real reboot to multi-user.target ≤ 40 s | not measured (run pnpm bench --host qemu) | not measured |');
  });
});
