/**
 * `lab compare --merge`: the matrix from cell files made on many machines, the same matrix a
 * single-machine `lab compare` builds. Columns are the plan's cells in the plan's order (the
 * cells' own order, by id, without a plan); a column is its design label, with the tier, guest
 * and architecture where the merged cells differ in them. A cell of the plan with no file is a
 * MISSING column, a cell whose lab could not run a NOT RUN column: never a pass. Bad input (two
 * files for one cell, a cell the plan does not have, nothing to merge) is a UsageError before
 * anything is written. Pure.
 */
import { UsageError } from '../errors.ts';
import type { CellFile, ComparisonFile } from './cellFile.ts';
import { machineLine } from './cellFile.ts';
import { buildMatrix, type ColumnSource, type CompareMatrix, type DesignRun } from './matrix.ts';
import type { CompareCell } from './plan.ts';

export interface MergeResult {
  matrix: CompareMatrix;
  /** The columns that ran, with their reports (for the per-column report pages). */
  runs: DesignRun[];
  /** Notes for stderr (e.g. no plan among the inputs: a missing cell cannot be seen). */
  notes: string[];
}

/** The dimensions the cells differ in, as a column suffix: "v6egress (qemu, nixos, aarch64)". */
function columnNames(cells: readonly CompareCell[]): Map<string, string> {
  const dims = (['tier', 'guest', 'arch'] as const).filter((k) => new Set(cells.map((c) => c[k])).size > 1);
  return new Map(cells.map((c) => [c.id, dims.length ? `${c.label} (${dims.map((k) => c[k]).join(', ')})` : c.label]));
}

function sourceOf(cell: CompareCell, file: CellFile | undefined, allowFailure: boolean): ColumnSource {
  const where = { cell: cell.id, tier: cell.tier, guest: cell.guest, arch: cell.arch, ...(allowFailure ? { allowFailure: true } : {}) };
  if (!file) return { ...where, outcome: 'missing', reason: 'no cell file came back (its job failed before writing one, or its artifact is not among the inputs)' };
  const machine = machineLine(file.machine, file.accel);
  if (file.outcome === 'error') return { ...where, machine, outcome: 'error', reason: file.error ?? 'the lab could not run' };
  return { ...where, machine, outcome: 'ran' };
}

export function mergeCells(inputs: readonly ComparisonFile[]): MergeResult {
  const cellFiles = inputs.flatMap((i) => (i.kind === 'cell' ? [i] : []));
  const plans = inputs.flatMap((i) => (i.kind === 'plan' ? [i] : []));
  if (!cellFiles.length && !plans.length) {
    throw new UsageError('lab compare --merge: nothing to merge (no cell.json or plan.json). Fix: pass the directory the cells\' artifacts were downloaded to, or their cell.json files');
  }
  const byId = new Map<string, (typeof cellFiles)[number]>();
  for (const f of cellFiles) {
    const other = byId.get(f.cell.cell.id);
    if (other) throw new UsageError(`lab compare --merge: cell ${f.cell.cell.id} is in two files, ${other.file} and ${f.file}. Fix: keep one of them (each cell of a plan runs once)`);
    byId.set(f.cell.cell.id, f);
  }
  const notes: string[] = [];
  let planned: CompareCell[];
  if (plans.length) {
    const union = new Map<string, CompareCell>();
    for (const { plan } of plans) for (const c of plan.include) union.set(c.id, { ...c, ...(c.allowFailure || union.get(c.id)?.allowFailure ? { allowFailure: true as const } : {}) });
    planned = [...union.values()];
    const stray = cellFiles.find((f) => !union.has(f.cell.cell.id));
    if (stray) {
      throw new UsageError(
        `lab compare --merge: ${stray.file} holds cell ${stray.cell.cell.id}, which is not in the plan (${plans.map((p) => p.file).join(', ')}). Fix: merge the cells of one plan: leave that file out, or add the plan it belongs to`,
      );
    }
  } else {
    planned = cellFiles.map((f) => f.cell.cell).sort((a, b) => a.id.localeCompare(b.id));
    notes.push('no plan.json among the inputs: only the cells present are merged (a missing cell cannot be seen without the plan)');
  }
  const names = columnNames(planned);
  const runs: DesignRun[] = planned.map((cell) => {
    const file = byId.get(cell.id)?.cell;
    const source = sourceOf(cell, file, cell.allowFailure === true);
    const design = names.get(cell.id)!;
    const report = file?.outcome === 'ran' ? file.report : undefined;
    return { design, durationMs: file?.times.durationMs ?? 0, source, ...(report ? { report } : {}), ...(file?.webArm ? { webArm: file.webArm } : {}) };
  });
  return { matrix: buildMatrix(runs), runs: runs.filter((r) => r.report), notes };
}
