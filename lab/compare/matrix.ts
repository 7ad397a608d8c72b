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

export interface CompareMatrix {
  schema: 'v6lab.compare/1';
  tier: string;
  designs: string[];
  scenarios: string[];
  /** cells[design][scenario] */
  cells: Record<string, Record<string, MatrixCell>>;
  durationsMs: Record<string, number>;
  unexpected: number;
}

export function buildMatrix(reports: Array<{ design: string; report: RunReport; durationMs: number }>): CompareMatrix {
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
  };
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
    '### Evidence, one line per cell',
    '',
  ];
  for (const d of m.designs) {
    lines.push(`**${d}** (${(m.durationsMs[d]! / 1000).toFixed(1)} s)`, '');
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
