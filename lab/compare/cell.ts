/**
 * `lab compare --cell <id> --out <dir>`: one cell of a plan on this machine, as another machine
 * would run it: a lab of its own (up, test, down always), then one directory with the cell file
 * (cell.json, `v6lab.compare-cell/1`: verdicts with evidence, the design's declarations, how
 * web-arm came up, times, machine facts), the run's JUnit, Markdown and HTML reports and its
 * pcaps. A lab that could not run still leaves a cell file (outcome "error"), so the merge shows
 * the cell as not run instead of losing it. Bad input (a cell this machine cannot run honestly,
 * an --out that already holds something) fails before anything is created or written.
 * Effects: runs the lab's CLI, writes the directory.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { errorLine, InterruptedError, UsageError } from '../errors.ts';
import { webArmImageArch } from '../images/arch.ts';
import type { Progress } from '../progress.ts';
import { runDirOf } from '../report/htmlFiles.ts';
import { exitCodeOfReport } from '../report/model.ts';
import { getTier } from '../tiers/registry.ts';
import { nativeArch, type LabConfig } from '../topology/config.ts';
import { planLab } from '../topology/plan.ts';
import { accelOf, CELL_FILE, CELL_SCHEMA, cellFileSchema, type CellFile } from './cellFile.ts';
import { runOnLab, type LabRun } from './compare.ts';
import { machineFacts } from './machine.ts';
import { cellConfig, RUNNER_OF_ARCH, type CompareCell } from './plan.ts';

export interface CellOptions {
  /** The directory the cell's files go to (created; must not hold anything yet). */
  out: string;
  labName: string;
  only?: readonly string[];
  /** Flags for `lab up` besides the cell's own (--set …, --no-snapshot). */
  upArgs: readonly string[];
  /** The CLI's config (its --set values, e.g. lab.stateDir): the cell's lab is planned from it. */
  base: LabConfig;
  progress: Progress;
  signal?: AbortSignal;
}

export interface CellResult {
  file: CellFile;
  dir: string;
  /** 0 every verdict as declared, 1 one differs, 2 the lab could not run the cell. */
  exitCode: number;
}

/**
 * A cell runs here only as what it says: web-arm's architecture on this tier must be the cell's
 * (the netns tier's web-arm is this machine's own; a qemu guest may be foreign).
 */
export function checkCellRunsHere(cell: CompareCell, config: LabConfig): void {
  const hostArch = webArmImageArch({ ...config, lab: { ...config.lab, arch: nativeArch() } });
  if (getTier(cell.tier).webArmArch(config, hostArch) !== webArmImageArch(config)) {
    throw new UsageError(
      `lab compare --cell ${cell.id}: on the ${cell.tier} tier web-arm is this machine's architecture (${nativeArch()}), not ${cell.arch}. Fix: run this cell on an ${cell.arch} machine (runner ${RUNNER_OF_ARCH[cell.arch]}), or plan --arch ${nativeArch()}`,
    );
  }
}

export function checkOutDir(out: string): void {
  if (existsSync(out) && readdirSync(out).length) {
    throw new UsageError(`lab compare --cell: --out ${out} already holds files. Fix: give each cell a new or empty directory (e.g. --out cells/<id>)`);
  }
}

function filesBelow(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => f.split('\\').join('/')) : [];
}

/** Copies the run directory's JUnit, Markdown, HTML and attachments (pcaps) into the cell's directory. */
function collectRunFiles(runDir: string, out: string): CellFile['files'] {
  const files: CellFile['files'] = { pcaps: [] };
  for (const [key, name] of [['junit', 'junit.xml'], ['markdown', 'report.md'], ['html', 'report.html']] as const) {
    if (existsSync(join(runDir, name))) {
      cpSync(join(runDir, name), join(out, name));
      files[key] = name;
    }
  }
  // Evidence names its attachments relative to the run directory: the same paths hold here.
  if (existsSync(join(runDir, 'attachments'))) cpSync(join(runDir, 'attachments'), join(out, 'attachments'), { recursive: true });
  files.pcaps = filesBelow(join(out, 'attachments'))
    .filter((f) => f.endsWith('.pcap'))
    .map((f) => relative(out, join(out, 'attachments', f)).split('\\').join('/'))
    .sort();
  return files;
}

export async function runCell(cell: CompareCell, options: CellOptions): Promise<CellResult> {
  const config = cellConfig(cell, { ...options.base, lab: { ...options.base.lab, name: options.labName } });
  checkCellRunsHere(cell, config);
  checkOutDir(options.out);
  const startedAt = new Date();
  const entry = { label: cell.label, design: cell.design, sets: cell.v6only ? ['--set', 'topology.ipv4=false'] : [] };
  let labRun: LabRun | undefined;
  let error: string | undefined;
  try {
    labRun = await runOnLab(entry, options.labName, {
      upArgs: ['--host', cell.tier, '--guest', cell.guest, '--arch', cell.arch, ...options.upArgs],
      ...(options.only ? { only: options.only } : {}),
      progress: options.progress,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (e) {
    if (e instanceof InterruptedError) throw e;
    error = (e as Error).message ?? errorLine(e);
  }
  const finishedAt = new Date();
  mkdirSync(options.out, { recursive: true });
  const report = labRun?.run.report;
  const file: CellFile = cellFileSchema.parse({
    schema: CELL_SCHEMA,
    cell,
    ...(options.only ? { only: [...options.only] } : {}),
    outcome: report ? 'ran' : 'error',
    ...(error ? { error } : {}),
    ...(report ? { report } : {}),
    declared: labRun?.upState?.design?.plan.expectations ?? {},
    ...(labRun?.run.webArm ? { webArm: labRun.run.webArm } : {}),
    ...(accelOf(labRun?.upState) ? { accel: accelOf(labRun?.upState) } : {}),
    times: {
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      ...(labRun ? { phasesMs: labRun.phasesMs } : {}),
    },
    machine: machineFacts(),
    files: report ? collectRunFiles(runDirOf(planLab(config).stateDir, report), options.out) : { pcaps: [] },
  });
  writeFileSync(join(options.out, CELL_FILE), `${JSON.stringify(file, null, 2)}\n`);
  return { file, dir: options.out, exitCode: report ? exitCodeOfReport(report) : 2 };
}
