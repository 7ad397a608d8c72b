/**
 * The bench's result model, its targets and its table. Pure.
 */
import { formatDuration } from '../lab/progress.ts';
import type { RunReport } from '../lab/report/model.ts';
import type { FloorResult } from './floor.ts';

/** The issue's targets: a netns full run within 1.5× the floor and within 30 s (2 cores). */
export const TARGET_RATIO = 1.5;
export const TARGET_FULL_MS = 30_000;

export interface LabStep {
  ms: number;
  exitCode: number;
}

export interface BenchResult {
  schema: 'v6lab.bench/1';
  startedAt: string;
  machine: { cpus: number; arch: string; kernel: string; node: string };
  lab: string;
  full?: { up: LabStep; test: LabStep & { totals?: RunReport['totals'] }; down: LabStep; totalMs: number };
  floor?: FloorResult;
  /** --host qemu: the guest's boot and reboot, measured on a lab of its own. */
  qemu?: { arch: string; accel: string; up: LabStep; bootToReadyMs: number; reboot: LabStep & { rebootMs?: number }; down: LabStep };
  /** full.totalMs / floor.totalMs */
  ratio?: number;
  targets: Array<{ target: string; value: string; met: boolean }>;
}

export function targetsOf(r: BenchResult): BenchResult['targets'] {
  const targets: BenchResult['targets'] = [];
  if (r.ratio !== undefined) {
    targets.push({ target: `netns full run ≤ ${TARGET_RATIO}× floor`, value: `${r.ratio.toFixed(2)}×`, met: r.ratio <= TARGET_RATIO });
  }
  if (r.full) {
    targets.push({ target: `netns full run ≤ ${TARGET_FULL_MS / 1000} s`, value: formatDuration(r.full.totalMs), met: r.full.totalMs <= TARGET_FULL_MS });
  }
  return targets;
}

function exitNote(step: LabStep): string {
  return step.exitCode === 0 ? '' : ` (exit ${step.exitCode})`;
}

/** The result as a Markdown table (also readable as plain text). */
export function renderTable(r: BenchResult): string {
  const rows: Array<[string, string]> = [];
  if (r.full) {
    const t = r.full.test.totals;
    rows.push(['full: lab up', `${formatDuration(r.full.up.ms)}${exitNote(r.full.up)}`]);
    rows.push([
      'full: lab test',
      `${formatDuration(r.full.test.ms)}${t ? ` (${t.passed} passed, ${t.failed} failed, ${t.errored} errored)` : exitNote(r.full.test)}`,
    ]);
    rows.push(['full: lab down', `${formatDuration(r.full.down.ms)}${exitNote(r.full.down)}`]);
    rows.push(['**full: total**', `**${formatDuration(r.full.totalMs)}**`]);
  }
  if (r.floor) {
    for (const s of r.floor.steps) rows.push([`floor: ${s.step}`, formatDuration(s.ms)]);
    rows.push(['**floor: total**', `**${formatDuration(r.floor.totalMs)}**`]);
  }
  if (r.ratio !== undefined) rows.push(['**ratio full/floor**', `**${r.ratio.toFixed(2)}×**`]);
  if (r.qemu) {
    rows.push([`qemu (${r.qemu.arch}, ${r.qemu.accel}): lab up`, `${formatDuration(r.qemu.up.ms)}${exitNote(r.qemu.up)}`]);
    rows.push(['qemu: boot to multi-user.target', formatDuration(r.qemu.bootToReadyMs)]);
    rows.push(['qemu: reboot to multi-user.target', `${r.qemu.reboot.rebootMs !== undefined ? formatDuration(r.qemu.reboot.rebootMs) : '—'}${exitNote(r.qemu.reboot)}`]);
    rows.push(['qemu: lab down', `${formatDuration(r.qemu.down.ms)}${exitNote(r.qemu.down)}`]);
  }
  const lines = [
    `v6lab bench on ${r.machine.cpus} CPU(s), ${r.machine.arch}, Linux ${r.machine.kernel}, Node ${r.machine.node} (${r.startedAt})`,
    '',
    '| step | time |',
    '| --- | ---: |',
    ...rows.map(([a, b]) => `| ${a} | ${b} |`),
  ];
  if (r.targets.length) {
    lines.push('', '| target | measured | met |', '| --- | ---: | --- |', ...r.targets.map((t) => `| ${t.target} | ${t.value} | ${t.met ? 'met' : 'not met'} |`));
  }
  return `${lines.join('\n')}\n`;
}

