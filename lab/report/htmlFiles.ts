/**
 * Writes a run's HTML report: report.html in the run directory (attachments linked relative to
 * it) and latest.html beside latest.{json,xml,md} (linked through ../runs/<run>/), with the
 * topology drawn by Graphviz now; topology.dot / latest.dot keep the graph so `lab report
 * --html` can draw it again after the lab is gone. Effects: runs dot, writes files.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { RunReport } from './model.ts';
import { renderHtml } from './html.ts';
import { drawingOptions, drawTopology } from './svg.ts';

/** The run directory `lab test` made for a report (runs/<startedAt with : and . as ->). */
export function runDirOf(stateDir: string, report: Pick<RunReport, 'startedAt'>): string {
  return join(stateDir, 'runs', report.startedAt.replace(/[:.]/g, '-'));
}

/** Writes the HTML (and the DOT it was drawn from); returns the paths written, latest.html first. */
export async function writeHtmlReport(report: RunReport, dot: string, dirs: { runDir?: string; reportsDir: string }): Promise<string[]> {
  const drawing = drawingOptions(await drawTopology(dot));
  mkdirSync(dirs.reportsDir, { recursive: true });
  const written: string[] = [];
  const runDir = dirs.runDir && existsSync(dirs.runDir) ? dirs.runDir : undefined;
  const latest = join(dirs.reportsDir, 'latest.html');
  const base = runDir ? `${relative(dirs.reportsDir, runDir).split('\\').join('/')}/` : '';
  writeFileSync(latest, renderHtml(report, { ...drawing, attachmentBase: base, ...(runDir ? { runDir } : {}) }));
  writeFileSync(join(dirs.reportsDir, 'latest.dot'), dot);
  written.push(latest);
  if (runDir) {
    writeFileSync(join(runDir, 'report.html'), renderHtml(report, { ...drawing, runDir }));
    writeFileSync(join(runDir, 'topology.dot'), dot);
    written.push(join(runDir, 'report.html'));
  }
  return written;
}
