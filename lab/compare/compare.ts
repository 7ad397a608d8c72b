/**
 * `lab compare`: each design on its own isolated lab (its own name, so labs never share a
 * namespace, link, container or directory), several at once where the machine allows (one at
 * a time on the qemu tier), then the matrix. On the qemu tier every design starts from the same
 * clean web-arm: the first lab boots it and saves the snapshot, the others restore it; the
 * matrix says which and how long. Every lab is taken down again, whatever happened. The matrix
 * is written as Markdown, JSON and one HTML page (each design's report beside it).
 */
import { availableParallelism } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InterruptedError, LabBrokenError, UsageError } from '../errors.ts';
import { run } from '../exec.ts';
import type { Progress } from '../progress.ts';
import type { RunReport } from '../report/model.ts';
import type { GuestRecord, LabState } from '../state/store.ts';
import { renderHtml } from '../report/html.ts';
import { designReportFile, renderMatrixHtml } from './matrixHtml.ts';
import { machineFacts } from './machine.ts';
import { accelOf, machineLine } from './cellFile.ts';
import { cellId, compareEntry, type CompareCell } from './plan.ts';
import { buildMatrix, renderMatrixJson, renderMatrixMarkdown, webArmStartText, type ColumnSource, type CompareMatrix, type DesignRun, type WebArmStart } from './matrix.ts';
import { LAB_CLI } from '../cli/entry.ts';

export interface CompareOptions {
  only?: string[];
  /** Labs at once; default 2 (at most the cores), 1 on the qemu tier (two TCG guests would share 2 cores). */
  parallel?: number;
  sets?: string[];
  /** Flags for every `lab up` besides the design (--host, --guest, --arch, --no-snapshot). */
  upFlags?: string[];
  /** How many labs of the tier this machine runs side by side (the tier's capability; default 2). */
  labsSideBySide?: number;
  /** Lab names are <prefix>x<i> (default cmp<pid>). */
  namePrefix?: string;
  progress: Progress;
  /** Ctrl-C: the running `lab up`/`lab test` is stopped, its lab taken down, no further design started. */
  signal?: AbortSignal;
  /** The tier, guest and arch every lab runs (each column then names its cell and this machine). */
  where?: Pick<CompareCell, 'tier' | 'guest' | 'arch'>;
}

export interface CompareResult {
  matrix: CompareMatrix;
  outputDir: string;
  /** Each column's run (its report, parameters, how web-arm came up). */
  runs: DesignRun[];
}

/** Lab names for a comparison: short, unique per run and design, no dashes. */
export function compareLabNames(designs: string[], runId: number, prefix = `cmp${runId % 100000}`): string[] {
  return designs.map((_, i) => `${prefix}x${i}`);
}

/**
 * As many labs at once as the tier runs side by side (the qemu tier: one, as each TCG guest wants
 * a core and the first one saves the snapshot the others restore), at most the cores.
 */
export function defaultParallelism(labsSideBySide: number | undefined, cores: number): number {
  return Math.max(1, Math.min(labsSideBySide ?? 2, cores));
}

/** How web-arm came up, from `lab up --json` (absent without a guest: the netns tier). */
export function webArmStartOf(upJson: string): WebArmStart | undefined {
  let guest: GuestRecord | undefined;
  try {
    guest = (JSON.parse(upJson) as { state?: { guest?: GuestRecord } }).state?.guest;
  } catch {
    return undefined;
  }
  if (!guest) return undefined;
  const start = guest.start ?? 'boot';
  return {
    start,
    ms: (start === 'restore' ? guest.restoreMs : guest.bootToReadyMs) ?? 0,
    ...(guest.snapshotSaveMs !== undefined ? { snapshotSaveMs: guest.snapshotSaveMs } : {}),
    ...(guest.restoreFailed ? { restoreFailed: guest.restoreFailed } : {}),
  };
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  });
  // Every worker ends (its lab taken down) before the first failure is reported.
  const settled = await Promise.allSettled(workers);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results;
}

/** One design on one lab of its own, as a comparison runs it: up, test, down (always). */
export interface LabRun {
  run: DesignRun & { report: RunReport };
  /** The lab's state as `lab up --json` printed it (its design's declarations, its guest). */
  upState?: LabState;
  phasesMs: { up: number; test: number; down: number };
}

export interface LabRunOptions {
  /** Flags for `lab up` besides the design (--host …, --set …). */
  upArgs: readonly string[];
  only?: readonly string[];
  /** Flags for `lab test` besides --json and --only (a fork's: --parallel 1). */
  testArgs?: readonly string[];
  progress: Progress;
  signal?: AbortSignal;
}

/**
 * Brings a lab up with the design, runs the scenarios and takes it down whatever happened (the
 * CLI in child processes, as a person would). A lab that could not come up, or a test that ran
 * nothing, is a LabBrokenError; Ctrl-C an InterruptedError.
 */
export async function runOnLab(entry: { label: string; design: string; sets: readonly string[] }, name: string, options: LabRunOptions): Promise<LabRun> {
  const { label: design } = entry;
  const cli = (...args: string[]) =>
    run([process.execPath, LAB_CLI, ...args, '--name', name], { allowFailure: true, timeoutMs: 60 * 60_000, selfTimed: true, env: { CI: '1' }, ...(args[0] !== 'down' && options.signal ? { signal: options.signal } : {}) });
  if (options.signal?.aborted) throw new InterruptedError(`lab compare interrupted before ${design}`);
  return options.progress.step(`${design} on lab ${name}`, async () => {
    const started = performance.now();
    const phasesMs = { up: 0, test: 0, down: 0 };
    const timed = async <T>(phase: keyof typeof phasesMs, fn: () => Promise<T>): Promise<T> => {
      const t = performance.now();
      try {
        return await fn();
      } finally {
        phasesMs[phase] = Math.round(performance.now() - t);
      }
    };
    try {
      const up = await timed('up', () => cli('up', '--json', '--set', `design.name=${entry.design}`, ...entry.sets, ...options.upArgs));
      if (up.exitCode !== 0) throw new LabBrokenError(`lab up for ${design} failed (exit ${up.exitCode}):\n${up.stderr.trim().split('\n').slice(-6).join('\n')}`);
      const webArm = webArmStartOf(up.stdout);
      if (webArm) options.progress.note(`${design}: web-arm ${webArmStartText(webArm)}`);
      const test = await timed('test', () => cli('test', '--json', ...(options.only ? ['--only', options.only.join(',')] : []), ...(options.testArgs ?? [])));
      if (test.exitCode === 2 || !test.stdout.trim().startsWith('{')) {
        throw new LabBrokenError(`lab test for ${design} ran nothing (exit ${test.exitCode}):\n${test.stderr.trim().split('\n').slice(-6).join('\n')}`);
      }
      return {
        run: { design, report: JSON.parse(test.stdout) as RunReport, durationMs: Math.round(performance.now() - started), ...(webArm ? { webArm } : {}) },
        ...upStateOf(up.stdout),
        phasesMs,
      };
    } catch (error) {
      if (options.signal?.aborted) throw new InterruptedError(`lab compare interrupted during ${design}; lab ${name} taken down`);
      throw error;
    } finally {
      await timed('down', () => cli('down'));
    }
  });
}

function upStateOf(upJson: string): { upState?: LabState } {
  try {
    const state = (JSON.parse(upJson) as { state?: LabState }).state;
    return state ? { upState: state } : {};
  } catch {
    return {};
  }
}

/**
 * Writes a matrix where a comparison leaves it: matrix.{md,json,html} and, per column that ran,
 * its report as JSON and as its own HTML page (linked from the matrix's cells).
 */
export function writeMatrixFiles(outputDir: string, matrix: CompareMatrix, runs: readonly DesignRun[], note: (run: DesignRun) => string): void {
  mkdirSync(outputDir, { recursive: true });
  writeFileSync(join(outputDir, 'matrix.md'), renderMatrixMarkdown(matrix));
  writeFileSync(join(outputDir, 'matrix.json'), renderMatrixJson(matrix));
  for (const r of runs) {
    if (!r.report) continue;
    writeFileSync(join(outputDir, `${designReportFile(r.design).replace(/\.html$/, '.json')}`), `${JSON.stringify(r.report, null, 2)}\n`);
    writeFileSync(join(outputDir, designReportFile(r.design)), renderHtml(r.report, { topologyNote: note(r) }));
  }
  writeFileSync(join(outputDir, 'matrix.html'), renderMatrixHtml(matrix, { linkReports: true }));
}

/** A new directory for a comparison's files: .lab/compare/<time>/. */
export function newCompareDir(): string {
  return resolve('.lab', 'compare', new Date().toISOString().replace(/[:.]/g, '-'));
}

export async function runCompare(designs: string[], options: CompareOptions): Promise<CompareResult> {
  if (designs.length < 2) throw new UsageError('lab compare needs at least two designs, e.g. `pnpm lab compare v6egress routed-subprefix routed-subprefix-ndp`');
  if (new Set(designs).size !== designs.length) throw new UsageError('lab compare: each design at most once');
  const entries = designs.map(compareEntry);
  const names = compareLabNames(designs, process.pid, options.namePrefix);
  const parallel = options.parallel ?? defaultParallelism(options.labsSideBySide, availableParallelism());
  const upArgs = [...(options.upFlags ?? []), ...(options.sets ?? []).flatMap((s) => ['--set', s])];
  const facts = options.where ? machineFacts() : undefined;
  const compareStarted = performance.now();
  const runs = await mapLimit(entries, parallel, async (entry, i): Promise<DesignRun> => {
    const { run: ran, upState } = await runOnLab(entry, names[i]!, { upArgs, ...(options.only ? { only: options.only } : {}), progress: options.progress, ...(options.signal ? { signal: options.signal } : {}) });
    const params = upState?.design?.plan.params;
    const designRun: DesignRun = { ...ran, ...(params ? { params } : {}) };
    if (!options.where) return designRun;
    const source: ColumnSource = { cell: cellId({ label: entry.label, ...options.where }), ...options.where, machine: machineLine(facts!, accelOf(upState)), outcome: 'ran' };
    return { ...designRun, source };
  });
  const matrix = buildMatrix(runs, { totalMs: Math.round(performance.now() - compareStarted) });
  const outputDir = newCompareDir();
  // Each design's own page, with its evidence (its lab is gone: no topology drawing, no pcaps here).
  writeMatrixFiles(outputDir, matrix, runs, (r) => `The lab of ${r.design} was taken down after its run: pnpm lab graph on a lab up with this design shows its topology.`);
  return { matrix, outputDir, runs };
}
