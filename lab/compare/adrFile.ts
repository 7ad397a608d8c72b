/**
 * Writes the ADR draft of a comparison (lab/compare/adr.ts renders it) as
 * `docs/adr/<number>-<slug>.md` under the comparison's output directory, linking the matrix, each
 * design's evidence page and the captures of its run that are still on this machine.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { getDesign } from '../designs/registry.ts';
import { UsageError } from '../errors.ts';
import { SCENARIOS } from '../scenario/registry.ts';
import { isScenarioId } from '../scenario/ids.ts';
import { adrFileName, renderAdr, type AdrOption } from './adr.ts';
import type { CompareMatrix, DesignRun } from './matrix.ts';
import { designReportFile } from './matrixHtml.ts';
import { compareEntry } from './plan.ts';

export interface AdrRequest {
  number: number;
  title: string;
}

/** `--adr <number> "<title>"` taken out of the arguments (both values required), and the rest. */
export function takeAdrFlag(args: readonly string[]): { adr?: AdrRequest; rest: string[] } {
  const at = args.indexOf('--adr');
  if (at < 0) return { rest: [...args] };
  const [number, title] = [args[at + 1], args[at + 2]];
  const fix = 'Fix: --adr <number> "<title>", e.g. --adr 11 "Container IPv6 egress on web-arm"';
  if (number === undefined || !/^\d{1,4}$/.test(number)) throw new UsageError(`--adr: expected the ADR's number (1 to 9999), got ${number === undefined ? 'nothing' : `"${number}"`}. ${fix}`);
  if (title === undefined || title.startsWith('--') || title.trim() === '') throw new UsageError(`--adr ${number}: expected the ADR's title after its number. ${fix}`);
  if (Number(number) < 1) throw new UsageError(`--adr: the number starts at 1. ${fix}`);
  return { adr: { number: Number(number), title: title.trim() }, rest: [...args.slice(0, at), ...args.slice(at + 3)] };
}

function scenarioTitles(matrix: CompareMatrix): Record<string, string> {
  return Object.fromEntries(matrix.scenarios.map((s) => [s, isScenarioId(s) ? SCENARIOS[s].title : s]));
}

/** Writes the draft; returns its path. */
export function writeAdrDraft(outputDir: string, request: AdrRequest, matrix: CompareMatrix, runs: readonly DesignRun[], command: string): string {
  const dir = join(outputDir, 'docs', 'adr');
  mkdirSync(dir, { recursive: true });
  const rel = (path: string) => relative(dir, path).split('\\').join('/');
  const options: AdrOption[] = matrix.designs.map((column) => {
    const run = runs.find((r) => r.design === column);
    const captures = [...new Set((run?.report?.scenarios ?? []).flatMap((s) => s.evidence.flatMap((e) => e.attachments ?? [])))].filter((p) => isAbsolute(p) && existsSync(p));
    return {
      column,
      summary: getDesign(compareEntry(column).design).summary,
      ...(run?.params ? { params: run.params } : {}),
      ...(run?.report ? { report: rel(join(outputDir, designReportFile(column))) } : {}),
      ...(captures.length ? { captures: captures.map(rel) } : {}),
    };
  });
  const file = join(dir, adrFileName(request.number, request.title));
  writeFileSync(
    file,
    renderAdr({
      number: request.number,
      title: request.title,
      date: new Date().toISOString().slice(0, 10),
      matrix,
      options,
      scenarioTitles: scenarioTitles(matrix),
      matrixLinks: ['matrix.md', 'matrix.html', 'matrix.json'].map((f) => rel(join(outputDir, f))),
      command,
    }),
  );
  return file;
}
