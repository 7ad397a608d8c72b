/**
 * The bench's result model, its targets (issue 19's, on 2 cores) and its tables. Pure.
 * Every target of the issue is listed in every run: measured ones with their value and met /
 * not met, the others as "not measured" with the command that measures them (never as met).
 */
import { formatDuration } from '../lab/progress.ts';
import type { RunReport, VerdictStatus } from '../lab/report/model.ts';
import type { TimeAccount } from '../lab/timeAccount.ts';
import type { BootProfile } from './bootProfile.ts';
import type { FloorResult } from './floor.ts';

/** Issue 19's targets. */
export const TARGETS = {
  netnsFullMs: 20_000,
  netnsWarmUpMs: 4_000,
  overheadShare: 0.1,
  qemuDesignUpMs: 10_000,
  qemuSuiteMs: 5 * 60_000,
  qemuRebootMs: 40_000,
  qemuCompareMs: 20 * 60_000,
} as const;

export const COMPARE_DESIGNS = ['v6egress', 'routed-subprefix-ndp', 'docker-routed-ndp', 'docker-ula-portfwd'] as const;

export interface LabStep {
  ms: number;
  exitCode: number;
}

/** One scenario's wall time, as the lab test report has it. */
export interface ScenarioTime {
  id: string;
  status: VerdictStatus;
  ms: number;
}

/** Where a lab verb's wall time went (lab/timeAccount.ts). */
export interface StepTimes {
  up?: TimeAccount;
  test?: TimeAccount;
  down?: TimeAccount;
  /** The steps above added up. */
  total?: TimeAccount;
}

/** How a qemu lab up brought web-arm up. */
export interface QemuUp extends LabStep {
  /** boot: cold; restore: the clean snapshot; restore-applied: the design-applied snapshot. */
  start?: 'boot' | 'restore' | 'restore-applied';
  restoreMs?: number;
  bootToReadyMs?: number;
  /** The design-applied snapshot this up saved (its first up of the design). */
  savedApplied?: boolean;
}

export interface BenchTarget {
  target: string;
  value: string;
  met: boolean;
  /** false: not measured in this run (value says how to measure it; met is false). */
  measured: boolean;
}

export interface BenchResult {
  schema: 'v6lab.bench/2';
  startedAt: string;
  machine: { cpus: number; arch: string; kernel: string; node: string };
  lab: string;
  full?: {
    up: LabStep;
    test: LabStep & { totals?: RunReport['totals'] };
    down: LabStep;
    totalMs: number;
    /** Where the time went, per verb and in all. */
    time?: StepTimes;
    /** Per scenario, from lab test's report. */
    scenarios?: ScenarioTime[];
  };
  floor?: FloorResult;
  /** --host qemu. `up`, `bootToReadyMs`, `reboot`, `down` keep their bench/1 meaning where they can: `up` is the warm up of a design seen before. */
  qemu?: {
    arch: string;
    accel: string;
    up: QemuUp;
    bootToReadyMs: number;
    /** Warm up without the design-applied snapshot: clean snapshot restored, then the design applied. */
    cleanUp?: QemuUp;
    reboot: LabStep & { rebootMs?: number };
    /** The guest's boot after that reboot, as systemd-analyze saw it. */
    boot?: BootProfile;
    down: LabStep;
    /** --suite: lab test of the whole suite on the restored lab. */
    suite?: LabStep & { totals?: RunReport['totals']; scenarios?: ScenarioTime[]; time?: TimeAccount };
    /** --compare: lab compare --host qemu of the four designs. */
    compare?: LabStep & { designs: string[] };
    time?: Record<string, TimeAccount>;
  };
  /** full.totalMs / floor.totalMs (bench/1's ratio; no longer a target). */
  ratio?: number;
  targets: BenchTarget[];
}

function ms(v: number): string {
  return formatDuration(v);
}

function pct(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}

function measuredTarget(target: string, value: string, met: boolean): BenchTarget {
  return { target, value, met, measured: true };
}

function notMeasured(target: string, how: string): BenchTarget {
  return { target, value: `not measured (${how})`, met: false, measured: false };
}

function stepFailed(step: LabStep | undefined): boolean {
  return step !== undefined && step.exitCode !== 0;
}

/** Every target of issue 19, evaluated from what this run measured. */
export function targetsOf(r: BenchResult): BenchTarget[] {
  const t = TARGETS;
  const targets: BenchTarget[] = [];
  const netnsHow = 'run pnpm bench';
  const full = r.full;
  const fullOk = full && !stepFailed(full.up) && !stepFailed(full.down);
  // netns
  const fullName = `netns full run (up + every scenario + down) ≤ ${t.netnsFullMs / 1000} s`;
  targets.push(full ? measuredTarget(fullName, `${ms(full.totalMs)}${fullOk ? '' : ' (a step failed)'}`, Boolean(fullOk) && full.totalMs <= t.netnsFullMs) : notMeasured(fullName, netnsHow));
  const upName = `netns warm lab up ≤ ${t.netnsWarmUpMs / 1000} s`;
  targets.push(full ? measuredTarget(upName, `${ms(full.up.ms)}${stepFailed(full.up) ? ' (failed)' : ''}`, !stepFailed(full.up) && full.up.ms <= t.netnsWarmUpMs) : notMeasured(upName, netnsHow));
  const ohName = `netns framework overhead ≤ ${t.overheadShare * 100} % of wall time`;
  const total = full?.time?.total;
  targets.push(
    total
      ? measuredTarget(ohName, `${pct(total.overheadShare)} (${ms(total.overheadMs)} of ${ms(total.wallMs)})`, Boolean(fullOk) && total.overheadShare <= t.overheadShare)
      : notMeasured(ohName, netnsHow),
  );
  // qemu
  const q = r.qemu;
  const qemuHow = 'run pnpm bench --host qemu';
  const designName = `qemu warm lab up of a design seen before ≤ ${t.qemuDesignUpMs / 1000} s`;
  if (q && q.up.start === 'restore-applied') {
    targets.push(measuredTarget(designName, `${ms(q.up.ms)}${stepFailed(q.up) ? ' (failed)' : ''}`, !stepFailed(q.up) && q.up.ms <= t.qemuDesignUpMs));
  } else if (q) {
    targets.push(measuredTarget(designName, `${ms(q.up.ms)} (web-arm ${q.up.start === 'boot' ? 'booted cold' : 'restored clean, design applied'}: no design-applied restore)`, false));
  } else targets.push(notMeasured(designName, qemuHow));
  const suiteName = `qemu whole v6egress suite, both real reboots included, ≤ ${t.qemuSuiteMs / 60_000} min`;
  if (q?.suite) {
    const ok = q.suite.totals !== undefined && q.suite.totals.errored === 0;
    targets.push(measuredTarget(suiteName, `${ms(q.suite.ms)}${ok ? '' : ' (not every scenario reached a verdict)'}`, ok && q.suite.ms <= t.qemuSuiteMs));
  } else targets.push(notMeasured(suiteName, 'run pnpm bench --host qemu --suite'));
  const rebootName = `qemu one real reboot to multi-user.target ≤ ${t.qemuRebootMs / 1000} s`;
  if (q?.reboot.rebootMs !== undefined) targets.push(measuredTarget(rebootName, ms(q.reboot.rebootMs), q.reboot.exitCode === 0 && q.reboot.rebootMs <= t.qemuRebootMs));
  else if (q) targets.push(measuredTarget(rebootName, `failed (lab reboot exit ${q.reboot.exitCode})`, false));
  else targets.push(notMeasured(rebootName, qemuHow));
  const compareName = `qemu lab compare of ${COMPARE_DESIGNS.join(', ')} ≤ ${t.qemuCompareMs / 60_000} min`;
  if (q?.compare) targets.push(measuredTarget(compareName, `${ms(q.compare.ms)}${stepFailed(q.compare) ? ` (exit ${q.compare.exitCode})` : ''}`, !stepFailed(q.compare) && q.compare.ms <= t.qemuCompareMs));
  else targets.push(notMeasured(compareName, 'run pnpm bench --host qemu --compare'));
  return targets;
}

function exitNote(step: LabStep): string {
  return step.exitCode === 0 ? '' : ` (exit ${step.exitCode})`;
}

function describeUp(u: QemuUp): string {
  const how =
    u.start === 'restore-applied'
      ? `design-applied snapshot restored in ${ms(u.restoreMs ?? 0)}`
      : u.start === 'restore'
        ? `clean snapshot restored in ${ms(u.restoreMs ?? 0)}, design applied${u.savedApplied ? ', design-applied snapshot saved' : ''}`
        : u.start === 'boot'
          ? `booted cold (${ms(u.bootToReadyMs ?? 0)} to multi-user.target)${u.savedApplied ? ', design-applied snapshot saved' : ''}`
          : 'web-arm start unknown';
  return `${ms(u.ms)}${exitNote(u)} (${how})`;
}

/** "where the time goes": per verb, wall, commands, waits, overhead. */
export function renderTimeTable(rows: Array<[string, TimeAccount]>): string[] {
  if (rows.length === 0) return [];
  return [
    '',
    '| where the time goes | wall | commands | deliberate waits | framework overhead |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map(([name, a]) => `| ${name} | ${ms(a.wallMs)} | ${ms(a.commandsMs)} (${a.commands}) | ${ms(a.waitsMs)} (${a.waits}) | ${ms(a.overheadMs)} (${pct(a.overheadShare)}) |`),
  ];
}

/** Per-scenario wall time, slowest first. */
export function renderScenarioTable(title: string, scenarios: readonly ScenarioTime[]): string[] {
  if (scenarios.length === 0) return [];
  const sorted = [...scenarios].sort((a, b) => b.ms - a.ms);
  return ['', `| ${title} | verdict | time |`, '| --- | --- | ---: |', ...sorted.map((s) => `| ${s.id} | ${s.status} | ${ms(s.ms)} |`)];
}

/** The result as Markdown tables (also readable as plain text). */
export function renderTable(r: BenchResult): string {
  const rows: Array<[string, string]> = [];
  const timeRows: Array<[string, TimeAccount]> = [];
  const extra: string[] = [];
  if (r.full) {
    const t = r.full.test.totals;
    rows.push(['full: lab up', `${ms(r.full.up.ms)}${exitNote(r.full.up)}`]);
    rows.push(['full: lab test', `${ms(r.full.test.ms)}${t ? ` (${t.passed} passed, ${t.failed} failed, ${t.errored} errored, ${t.skipped} skipped)` : exitNote(r.full.test)}`]);
    rows.push(['full: lab down', `${ms(r.full.down.ms)}${exitNote(r.full.down)}`]);
    rows.push(['**full: total**', `**${ms(r.full.totalMs)}**`]);
    const time = r.full.time;
    for (const k of ['up', 'test', 'down', 'total'] as const) if (time?.[k]) timeRows.push([k === 'total' ? '**full run**' : `lab ${k}`, time[k]]);
    extra.push(...renderScenarioTable('netns scenario', r.full.scenarios ?? []));
  }
  if (r.floor) {
    for (const s of r.floor.steps) rows.push([`floor: ${s.step}`, ms(s.ms)]);
    rows.push(['**floor: total**', `**${ms(r.floor.totalMs)}**`]);
  }
  if (r.ratio !== undefined) rows.push(['ratio full/floor (no longer a target)', `${r.ratio.toFixed(2)}×`]);
  const q = r.qemu;
  if (q) {
    if (q.cleanUp) rows.push([`qemu (${q.arch}, ${q.accel}): lab up, clean snapshot`, describeUp(q.cleanUp)]);
    rows.push([`qemu (${q.arch}, ${q.accel}): lab up, design seen before`, describeUp(q.up)]);
    if (q.suite) {
      const t = q.suite.totals;
      rows.push(['qemu: lab test (whole suite)', `${ms(q.suite.ms)}${t ? ` (${t.passed} passed, ${t.failed} failed, ${t.errored} errored, ${t.skipped} skipped)` : exitNote(q.suite)}`]);
      extra.push(...renderScenarioTable('qemu scenario', q.suite.scenarios ?? []));
    } else rows.push(['qemu: lab test (whole suite)', 'not measured (--suite)']);
    rows.push(['qemu: real reboot to multi-user.target', `${q.reboot.rebootMs !== undefined ? ms(q.reboot.rebootMs) : '—'}${exitNote(q.reboot)}`]);
    if (q.boot) {
      const b = q.boot;
      const part = (v: number | undefined) => (v === undefined ? '—' : ms(v));
      rows.push(['qemu: that boot (systemd-analyze)', `kernel ${part(b.kernelMs)} + initrd ${part(b.initrdMs)} + userspace ${part(b.userspaceMs)} = ${part(b.totalMs)}; multi-user.target after ${part(b.multiUserMs)} in userspace`]);
      if (b.blame.length) extra.push('', '| slowest units of that boot (systemd-analyze blame) | time |', '| --- | ---: |', ...b.blame.map((x) => `| ${x.unit} | ${ms(x.ms)} |`));
      if (b.criticalChain.length) extra.push('', 'critical chain of multi-user.target (systemd-analyze critical-chain):', '```', ...b.criticalChain, '```');
    }
    rows.push(['qemu: lab down', `${ms(q.down.ms)}${exitNote(q.down)}`]);
    rows.push(['qemu: lab compare (4 designs)', q.compare ? `${ms(q.compare.ms)}${exitNote(q.compare)}` : 'not measured (--compare)']);
    for (const [k, a] of Object.entries(q.time ?? {})) timeRows.push([`qemu ${k}`, a]);
  }
  const lines = [
    `v6lab bench on ${r.machine.cpus} CPU(s), ${r.machine.arch}, Linux ${r.machine.kernel}, Node ${r.machine.node} (${r.startedAt})`,
    '',
    '| step | time |',
    '| --- | ---: |',
    ...rows.map(([a, b]) => `| ${a} | ${b} |`),
    ...renderTimeTable(timeRows),
    ...extra,
  ];
  if (r.targets.length) {
    lines.push('', '| target | measured | met |', '| --- | ---: | --- |', ...r.targets.map((t) => `| ${t.target} | ${t.value} | ${t.measured ? (t.met ? 'met' : 'not met') : 'not measured'} |`));
  }
  return `${lines.join('\n')}\n`;
}
