/**
 * The design × scenario matrix of `lab compare`. Pure: built from each design's run report;
 * rendered as a terminal table, Markdown (for an ADR) and JSON. A cell whose verdict differs
 * from what its design declares is flagged.
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

export interface CompareMatrix {
  schema: 'v6lab.compare/1';
  tier: string;
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
}

export interface DesignRun {
  design: string;
  report: RunReport;
  durationMs: number;
  webArm?: WebArmStart;
}

export function buildMatrix(reports: DesignRun[], totals: { totalMs?: number } = {}): CompareMatrix {
  const scenarios: string[] = [];
  for (const { report } of reports) for (const s of report.scenarios) if (!scenarios.includes(s.id)) scenarios.push(s.id);
  const cells: CompareMatrix['cells'] = {};
  let unexpected = 0;
  for (const { design, report } of reports) {
    cells[design] = {};
    for (const s of report.scenarios) {
      const cell = { status: s.status, expected: s.expected ?? 'pass', unexpected: isUnexpected(s), summary: s.summary };
      if (cell.unexpected) unexpected++;
      cells[design]![s.id] = cell;
    }
  }
  return {
    schema: 'v6lab.compare/1',
    tier: reports[0]?.report.tier ?? 'netns',
    designs: reports.map((r) => r.design),
    scenarios,
    cells,
    durationsMs: Object.fromEntries(reports.map((r) => [r.design, r.durationMs])),
    unexpected,
    ...(reports.some((r) => r.webArm) ? { webArm: Object.fromEntries(reports.flatMap((r) => (r.webArm ? [[r.design, r.webArm]] : []))) } : {}),
    ...(totals.totalMs !== undefined ? { totalMs: totals.totalMs } : {}),
  };
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

export function renderMatrixTable(m: CompareMatrix): string {
  const header = ['scenario', ...m.designs];
  const rows = m.scenarios.map((s) => [s, ...m.designs.map((d) => cellText(m.cells[d]?.[s]))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    m.unexpected ? `${m.unexpected} cell(s) differ from what their design declares (⚠)` : 'every cell is as its design declares',
    '',
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
    ...m.scenarios.map((s) => `| ${mdCell(s)} | ${m.designs.map((d) => mdCell(cellText(m.cells[d]?.[s]))).join(' | ')} |`),
    '',
    '"(expected)": the design declares this verdict (an intended failure, or a scenario that does not apply). ⚠: the verdict differs from the declaration.',
    '',
  ];
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
    lines.push(`**${d}** (${(m.durationsMs[d]! / 1000).toFixed(1)} s${w ? `; web-arm: ${webArmStartText(w)}` : ''})`, '');
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
