/**
 * The design × scenario matrix of `lab compare`. Pure: built from each column's run report (a
 * design on one machine, or a cell of a plan run on another machine and merged); rendered as a
 * terminal table, Markdown (for an ADR) and JSON. A cell whose verdict differs from what its
 * design declares is flagged; a column that is missing or could not run is shown as such, never
 * as a pass.
 */
import { isUnexpected, type RunReport, type VerdictStatus } from '../report/model.ts';

export interface MatrixCell {
  status: VerdictStatus;
  expected: VerdictStatus;
  unexpected: boolean;
  summary: string;
}

/** How web-arm came up for a design's lab (qemu tier): a cold boot, or a restore of the clean web-arm snapshot. */
export interface WebArmStart {
  start: 'boot' | 'restore';
  /** Boot to multi-user.target, or restore to a verified web-arm, ms. */
  ms: number;
  /** This lab saved the snapshot: how long its guest was paused for it, ms. */
  snapshotSaveMs?: number;
  /** A restore was tried and given up (then web-arm booted). */
  restoreFailed?: string;
}

/** Where a column came from: its cell (design × tier × guest × arch), the machine, whether it ran. */
export interface ColumnSource {
  /** The cell id (lab/compare/plan.ts). */
  cell: string;
  tier: string;
  guest: string;
  arch: string;
  /** The machine it ran on, in one line (architecture, cores, OS, accelerator). */
  machine?: string;
  /** ran: its verdicts are in the matrix; missing: no cell file came back; error: the lab could not run it. */
  outcome: 'ran' | 'missing' | 'error';
  /** Why it is missing or did not run. */
  reason?: string;
  /** Its failure does not fail the comparison (a new column, until it has passed once). */
  allowFailure?: boolean;
}

export interface CompareMatrix {
  schema: 'v6lab.compare/1';
  /** The tier, or the tiers joined with " + " when columns ran on several. */
  tier: string;
  /** The columns: a design (with @v6only), and where columns differ in tier, guest or arch, those too. */
  designs: string[];
  scenarios: string[];
  /** cells[design][scenario] */
  cells: Record<string, Record<string, MatrixCell>>;
  /** Each design's whole run (up, test, down), ms. */
  durationsMs: Record<string, number>;
  unexpected: number;
  /** How web-arm came up per design (only designs whose lab had a guest: the qemu tier). */
  webArm?: Record<string, WebArmStart>;
  /** The whole comparison, wall clock, ms. */
  totalMs?: number;
  /** Where each column came from (its cell, machine and outcome). */
  columns?: Record<string, ColumnSource>;
}

export interface DesignRun {
  /** The column. */
  design: string;
  /** Absent when the column did not run (its source says missing or error). */
  report?: RunReport;
  durationMs: number;
  webArm?: WebArmStart;
  source?: ColumnSource;
  /** The parameters its design ran with (from its lab's state), when known. */
  params?: Record<string, unknown>;
}

export function buildMatrix(reports: DesignRun[], totals: { totalMs?: number } = {}): CompareMatrix {
  const scenarios: string[] = [];
  for (const { report } of reports) for (const s of report?.scenarios ?? []) if (!scenarios.includes(s.id)) scenarios.push(s.id);
  const cells: CompareMatrix['cells'] = {};
  let unexpected = 0;
  for (const { design, report } of reports) {
    cells[design] = {};
    for (const s of report?.scenarios ?? []) {
      const cell = { status: s.status, expected: s.expected ?? 'pass', unexpected: isUnexpected(s), summary: s.summary };
      if (cell.unexpected) unexpected++;
      cells[design]![s.id] = cell;
    }
  }
  return {
    schema: 'v6lab.compare/1',
    tier: [...new Set(reports.flatMap((r) => r.report?.tier ?? r.source?.tier ?? []))].join(' + ') || 'netns',
    designs: reports.map((r) => r.design),
    scenarios,
    cells,
    durationsMs: Object.fromEntries(reports.map((r) => [r.design, r.durationMs])),
    unexpected,
    ...(reports.some((r) => r.webArm) ? { webArm: Object.fromEntries(reports.flatMap((r) => (r.webArm ? [[r.design, r.webArm]] : []))) } : {}),
    ...(totals.totalMs !== undefined ? { totalMs: totals.totalMs } : {}),
    ...(reports.some((r) => r.source) ? { columns: Object.fromEntries(reports.flatMap((r) => (r.source ? [[r.design, r.source]] : []))) } : {}),
  };
}

/** Columns that are missing or could not run. */
export function notRunColumns(m: CompareMatrix): string[] {
  return m.designs.filter((d) => (m.columns?.[d]?.outcome ?? 'ran') !== 'ran');
}

/**
 * The exit code of a comparison: 2 a column is missing or could not run, 1 a cell differs from
 * its declaration, 0 every cell as declared. Columns allowed to fail are shown but not counted.
 */
export function exitCodeOfMatrix(m: CompareMatrix): number {
  const counted = m.designs.filter((d) => !m.columns?.[d]?.allowFailure);
  if (notRunColumns(m).some((d) => counted.includes(d))) return 2;
  return counted.some((d) => Object.values(m.cells[d] ?? {}).some((c) => c.unexpected)) ? 1 : 0;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** "cold boot 62.3 s, snapshot saved (paused 3.1 s)", "snapshot restore 4.2 s". */
export function webArmStartText(w: WebArmStart): string {
  if (w.start === 'restore') return `snapshot restore ${seconds(w.ms)}`;
  return [
    `cold boot ${seconds(w.ms)}`,
    ...(w.restoreFailed ? ['after a failed restore'] : []),
    ...(w.snapshotSaveMs !== undefined ? [`snapshot saved (paused ${seconds(w.snapshotSaveMs)})`] : []),
  ].join(', ');
}

/** The lines under the verdicts: how web-arm came up per design, and the total. */
function runLines(m: CompareMatrix): string[] {
  const lines: string[] = [];
  if (m.webArm) {
    const width = Math.max(...m.designs.map((d) => d.length));
    lines.push('web-arm per design:');
    for (const d of m.designs) {
      const w = m.webArm[d];
      if (w) lines.push(`  ${d.padEnd(width)}  ${webArmStartText(w)}; whole run ${seconds(m.durationsMs[d] ?? 0)}`);
    }
  }
  if (m.totalMs !== undefined) lines.push(`compared in ${seconds(m.totalMs)}`);
  return lines.length ? [...lines, ''] : [];
}

const WORD: Record<VerdictStatus, string> = { pass: 'PASS', fail: 'FAIL', error: 'ERROR', skipped: 'SKIP' };

/** "PASS", "FAIL (expected)", "PASS ⚠ expected FAIL", "—" for a scenario the design did not run. */
export function cellText(cell: MatrixCell | undefined): string {
  if (!cell) return '—';
  if (cell.unexpected) return `${WORD[cell.status]} ⚠ expected ${WORD[cell.expected]}`;
  return cell.expected === 'pass' ? WORD[cell.status] : `${WORD[cell.status]} (expected)`;
}

const NOT_RUN: Record<Exclude<ColumnSource['outcome'], 'ran'>, string> = { missing: 'MISSING ⚠', error: 'NOT RUN ⚠' };

/** A grid cell's text: its verdict, or what its column lacks (missing, not run) in every row. */
export function gridText(m: CompareMatrix, design: string, scenario: string): string {
  const outcome = m.columns?.[design]?.outcome ?? 'ran';
  return outcome === 'ran' ? cellText(m.cells[design]?.[scenario]) : NOT_RUN[outcome];
}

/** The lines that close every rendering: what differs, what did not run, what may fail. */
export function closingLines(m: CompareMatrix): string[] {
  const notRun = notRunColumns(m);
  const allowed = m.designs.filter((d) => m.columns?.[d]?.allowFailure);
  return [
    m.unexpected ? `${m.unexpected} cell(s) differ from what their design declares (⚠)` : notRun.length ? 'every cell that ran is as its design declares' : 'every cell is as its design declares',
    ...notRun.map((d) => `${d}: ${m.columns![d]!.outcome === 'missing' ? 'MISSING' : 'NOT RUN'} (cell ${m.columns![d]!.cell}): ${m.columns![d]!.reason ?? 'no cell file'}`),
    ...(allowed.length ? [`allowed to fail (shown, not counted in the exit code): ${allowed.join(', ')}`] : []),
  ];
}

/** The cells' sources, one line each ("v6egress: v6egress--netns-debian-x86_64 on x86_64, 2 cores, …"). */
function sourceLines(m: CompareMatrix): string[] {
  if (!m.columns) return [];
  return ['cells:', ...m.designs.flatMap((d) => (m.columns![d] ? [`  ${d}: ${m.columns![d]!.cell}${m.columns![d]!.machine ? ` on ${m.columns![d]!.machine}` : ''}`] : [])), ''];
}

export function renderMatrixTable(m: CompareMatrix): string {
  const header = ['scenario', ...m.designs];
  const rows = m.scenarios.map((s) => [s, ...m.designs.map((d) => gridText(m, d, s))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    ...closingLines(m),
    '',
    ...sourceLines(m),
    ...runLines(m),
  ].join('\n');
}

function mdCell(text: string): string {
  return text.replaceAll('|', '\\|');
}

export function renderMatrixMarkdown(m: CompareMatrix): string {
  const lines = [
    `## Design comparison (${m.tier} tier)`,
    '',
    `| Scenario | ${m.designs.map(mdCell).join(' | ')} |`,
    `| --- | ${m.designs.map(() => '---').join(' | ')} |`,
    ...m.scenarios.map((s) => `| ${mdCell(s)} | ${m.designs.map((d) => mdCell(gridText(m, d, s))).join(' | ')} |`),
    '',
    '"(expected)": the design declares this verdict (an intended failure, or a scenario that does not apply). ⚠: the verdict differs from the declaration; MISSING / NOT RUN: the cell never came back, or its lab could not run.',
    '',
    ...closingLines(m).map((l, i) => (i ? `- ${mdCell(l)}` : `**${mdCell(l)}**`)),
    '',
  ];
  if (m.columns) {
    lines.push('### Cells', '', '| Column | Cell | Machine | Outcome |', '| --- | --- | --- | --- |');
    for (const d of m.designs) {
      const c = m.columns[d];
      if (c) lines.push(`| ${mdCell(d)} | ${mdCell(c.cell)} | ${mdCell(c.machine ?? '—')} | ${mdCell(c.outcome === 'ran' ? 'ran' : `${c.outcome}: ${c.reason ?? ''}`)}${c.allowFailure ? ' (allowed to fail)' : ''} |`);
    }
    lines.push('');
  }
  if (m.webArm || m.totalMs !== undefined) {
    lines.push('### How each lab came up', '');
    if (m.webArm) {
      lines.push('| Design | web-arm | Whole run |', '| --- | --- | --- |');
      for (const d of m.designs) {
        const w = m.webArm[d];
        lines.push(`| ${mdCell(d)} | ${w ? mdCell(webArmStartText(w)) : '—'} | ${seconds(m.durationsMs[d] ?? 0)} |`);
      }
      lines.push('');
    }
    if (m.totalMs !== undefined) lines.push(`Compared in ${seconds(m.totalMs)}.`, '');
  }
  lines.push('### Evidence, one line per cell', '');
  for (const d of m.designs) {
    const w = m.webArm?.[d];
    const c = m.columns?.[d];
    if (c && c.outcome !== 'ran') {
      lines.push(`**${d}**: ${gridText(m, d, '')} (${mdCell(c.reason ?? 'no cell file')})`, '');
      continue;
    }
    lines.push(`**${d}** (${((m.durationsMs[d] ?? 0) / 1000).toFixed(1)} s${w ? `; web-arm: ${webArmStartText(w)}` : ''})`, '');
    for (const s of m.scenarios) {
      const cell = m.cells[d]?.[s];
      if (cell) lines.push(`- ${s}: ${cellText(cell)}: ${mdCell(cell.summary)}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

export function renderMatrixJson(m: CompareMatrix): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}
