/**
 * What `lab compare --merge` reads: each argument a directory (searched, at any depth, for the
 * cell.json files `--cell` writes and the plan.json a workflow saves) or a file (a cell file or
 * a plan, told apart by content). Every file is parsed before anything is merged or written.
 * Effects: reads files.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UsageError } from '../errors.ts';
import { CELL_FILE, parseComparisonFile, PLAN_FILE, type ComparisonFile } from './cellFile.ts';

function filesIn(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => basename(f) === CELL_FILE || basename(f) === PLAN_FILE)
    .map((f) => join(dir, f))
    .sort();
}

export function readComparisonFiles(paths: readonly string[]): ComparisonFile[] {
  if (!paths.length) throw new UsageError('lab compare --merge needs a directory or cell files, e.g. `pnpm lab compare --merge cells/`');
  const files = paths.flatMap((p) => {
    if (!existsSync(p)) throw new UsageError(`lab compare --merge: ${p} does not exist. Fix: pass the directory the cells were downloaded to, or their cell.json files`);
    return statSync(p).isDirectory() ? filesIn(p) : [p];
  });
  return files.map((f) => parseComparisonFile(f, readFileSync(f, 'utf8')));
}
