/**
 * Terminal rendering of a run report: one row per scenario, then the closing line (declared
 * verdicts apart from undeclared ones).
 * Pure: returns a string. The small formatting helpers here are shared by the other renderers.
 */

import { isUnexpected } from './model.ts';
import type { Evidence, RunReport, ScenarioVerdict, VerdictStatus } from './model.ts';

export interface VerdictTableOptions {
  /** Colour the verdict cell with ANSI escapes. Off unless set. */
  color?: boolean;
  /** Maximum line width in columns; longer lines end in an ellipsis. Default 120. */
  width?: number;
}

const DEFAULT_WIDTH = 120;
const ELLIPSIS = '…';
const GAP = '  ';

const VERDICT_LABEL: Record<VerdictStatus, string> = {
  pass: 'PASS',
  fail: 'FAIL',
  error: 'ERROR',
  skipped: 'SKIP',
};

const VERDICT_COLOR: Record<VerdictStatus, string> = {
  pass: '\u001b[32m', // green
  fail: '\u001b[31m', // red
  error: '\u001b[35m', // magenta
  skipped: '\u001b[33m', // yellow
};
const BOLD = '\u001b[1m';
const RESET = '\u001b[0m';

export function verdictLabel(status: VerdictStatus, expected?: VerdictStatus): string {
  if (!expected || expected === 'pass') return VERDICT_LABEL[status];
  return status === expected ? `${VERDICT_LABEL[status]} (expected)` : `${VERDICT_LABEL[status]} (expected ${VERDICT_LABEL[expected]})`;
}

/** "netns (real)", "qemu (emulated)". */
export function tierLabel(scenario: Pick<ScenarioVerdict, 'tier' | 'realism'>): string {
  return `${scenario.tier} (${scenario.realism})`;
}

/** The tier column: tier and realism, and the fork that ran the scenario (`lab test --parallel`). */
export function tierCell(scenario: Pick<ScenarioVerdict, 'tier' | 'realism' | 'ranOn'>): string {
  return `${tierLabel(scenario)}${scenario.ranOn ? ` on ${scenario.ranOn}` : ''}`;
}

/** Milliseconds as seconds with one decimal: 1234 → "1.2 s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '? s';
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * The closing line, declared apart from undeclared:
 * "15 passed, 1 failed as declared, 5 skipped as declared, 0 unexpected".
 * Passes are counted once whatever was declared; failures and skips are "as declared" when
 * their design declares them; errors are never declared; "N unexpected" counts every verdict
 * that differs from its declaration (a pass where a failure was declared included). Failed
 * and unexpected are always shown, errored and skipped only when non-zero.
 */
export function closingLine(scenarios: readonly Pick<ScenarioVerdict, 'status' | 'expected'>[]): string {
  const count = (status: VerdictStatus, declared: boolean) =>
    scenarios.filter((s) => s.status === status && (s.status === (s.expected ?? 'pass')) === declared).length;
  const split = (status: VerdictStatus, word: string, always: boolean): string[] => {
    const undeclared = count(status, false);
    const declared = count(status, true);
    return [
      ...(undeclared > 0 || (always && declared === 0) ? [`${undeclared} ${word}`] : []),
      ...(declared > 0 ? [`${declared} ${word} as declared`] : []),
    ];
  };
  const errored = scenarios.filter((s) => s.status === 'error').length;
  return [
    `${scenarios.filter((s) => s.status === 'pass').length} passed`,
    ...split('fail', 'failed', true),
    ...(errored > 0 ? [`${errored} errored`] : []),
    ...split('skipped', 'skipped', false),
    `${scenarios.filter(isUnexpected).length} unexpected`,
  ].join(', ');
}

/** "check: expected X, saw Y" for one piece of evidence. */
export function evidenceFinding(evidence: Evidence): string {
  return `${evidence.check}: expected ${evidence.expected}, saw ${evidence.seen}`;
}

/**
 * The one thing a reader should see about a scenario.
 * pass/skipped: the summary. fail: the first failing evidence, else the error, else the summary.
 * error: the error message (the lab broke), else the first failing evidence, else the summary.
 * Not yet flattened to one line; see {@link oneLine}.
 */
export function evidenceHeadline(scenario: ScenarioVerdict): string {
  const failing = scenario.evidence.find((e) => !e.ok);
  const finding = failing ? evidenceFinding(failing) : undefined;
  const error = scenario.error && scenario.error.trim() !== '' ? scenario.error : undefined;
  switch (scenario.status) {
    case 'fail':
      return finding ?? error ?? scenario.summary;
    case 'error':
      return error ?? finding ?? scenario.summary;
    default:
      return scenario.summary;
  }
}

/** ANSI escape sequences (CSI such as colours, and OSC such as titles/links). */
const ANSI_SEQUENCE = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u009b[0-?]*[ -/]*[@-~]/g;

/** Removes ANSI escape sequences (command output often carries colours). */
export function stripAnsi(text: string): string {
  return text.replace(ANSI_SEQUENCE, '');
}

/** Drops ANSI sequences and C0/C1 control characters (ESC included) and collapses all whitespace runs to one space. */
export function oneLine(text: string): string {
  return stripAnsi(text)
    .replace(/[\t\n\v\f\r\u0085\u2028\u2029]+/g, ' ')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .replace(/ {2,}/g, ' ')
    .trim();
}

/** Cuts to at most `width` code points, ending in "…" when anything was cut. */
export function truncate(text: string, width: number): string {
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  if (width <= 0) return '';
  return chars.slice(0, width - 1).join('') + ELLIPSIS;
}

function visibleLength(text: string): number {
  return Array.from(text).length;
}

function padEnd(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - visibleLength(text)));
}

function padStart(text: string, width: number): string {
  return ' '.repeat(Math.max(0, width - visibleLength(text))) + text;
}

interface Row {
  id: string;
  verdict: string;
  tier: string;
  duration: string;
  evidence: string;
  status?: VerdictStatus;
}

export function renderVerdictTable(report: RunReport, opts: VerdictTableOptions = {}): string {
  const width = normalizeWidth(opts.width);
  const color = opts.color === true;

  const header: Row = { id: 'SCENARIO', verdict: 'VERDICT', tier: 'TIER', duration: 'DURATION', evidence: 'EVIDENCE' };
  const rows: Row[] = report.scenarios.map((s) => ({
    id: oneLine(s.id),
    verdict: verdictLabel(s.status, s.expected),
    tier: oneLine(tierCell(s)),
    duration: formatDuration(s.durationMs),
    evidence: oneLine(evidenceHeadline(s)),
    status: s.status,
  }));

  const all = [header, ...rows];
  const w = {
    id: Math.max(...all.map((r) => visibleLength(r.id))),
    verdict: Math.max(...all.map((r) => visibleLength(r.verdict))),
    tier: Math.max(...all.map((r) => visibleLength(r.tier))),
    duration: Math.max(...all.map((r) => visibleLength(r.duration))),
  };

  const line = (r: Row, bold: boolean): string => {
    const cells = [
      padEnd(r.id, w.id),
      padEnd(r.verdict, w.verdict),
      padEnd(r.tier, w.tier),
      padStart(r.duration, w.duration),
      r.evidence,
    ];
    const plain = truncate(cells.join(GAP).trimEnd(), width);
    if (!color) return plain;
    if (bold) return BOLD + plain + RESET;
    if (!r.status) return plain;
    // Colour the verdict word only, and only where truncation left all of it on the line.
    const start = visibleLength(cells[0] ?? '') + GAP.length;
    const chars = Array.from(plain);
    const end = start + visibleLength(r.verdict);
    if (chars.length < end || chars.slice(start, end).join('') !== r.verdict) return plain;
    return (
      chars.slice(0, start).join('') +
      VERDICT_COLOR[r.status] +
      r.verdict +
      RESET +
      chars.slice(end).join('')
    );
  };

  const rule = truncate(
    ['-'.repeat(w.id), '-'.repeat(w.verdict), '-'.repeat(w.tier), '-'.repeat(w.duration), '-'.repeat(8)].join(GAP),
    width,
  );

  const out = [line(header, true), rule, ...rows.map((r) => line(r, false)), '', closingLine(report.scenarios), ...forkLines(report)];
  return out.join('\n') + '\n';
}

/** Which web-arm ran what, when the run was shared with forks (`lab test --parallel`). */
export function forkLines(report: Pick<RunReport, 'forks'>): string[] {
  if (!report.forks || report.forks.length < 2) return [];
  return report.forks.map((f) => {
    const how = f.fork === 0 ? "the lab's own web-arm" : `fork ${f.fork}${f.webArm ? `, web-arm ${f.webArm}` : ''}${f.phasesMs ? `; up ${formatDuration(f.phasesMs.up)}, test ${formatDuration(f.phasesMs.test)}, down ${formatDuration(f.phasesMs.down)}` : ''}`;
    return `${f.lab} (${how}): ${f.scenarios.join(', ') || 'nothing'}${f.error ? ` — could not run: ${oneLine(f.error)}` : ''}`;
  });
}

function normalizeWidth(width: number | undefined): number {
  if (width === undefined || !Number.isFinite(width)) return DEFAULT_WIDTH;
  return Math.max(1, Math.floor(width));
}
