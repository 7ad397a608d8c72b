/**
 * An architecture decision record drafted from a comparison, in the MADR layout: the context
 * and problem, the decision drivers (the scenarios), the considered options (the designs, with
 * their parameters), a decision outcome left for a person to choose, the pros and cons of each
 * option taken from its matrix cells (a pass is a pro, a failure a con, a skip neutral; a cell
 * that differs from what its design declares is marked ⚠), and links to the evidence. Pure.
 */
import type { VerdictStatus } from '../report/model.ts';
import type { CompareMatrix, MatrixCell } from './matrix.ts';

/** One considered option: a column of the matrix and what it is. */
export interface AdrOption {
  /** The column (`<design>` or `<design>@v6only`). */
  column: string;
  /** The design's one-line summary (its registry entry). */
  summary: string;
  /** The parameters it ran with (as the design resolved them), when known. */
  params?: Record<string, unknown>;
  /** Its evidence: the design's report page, relative to the ADR. */
  report?: string;
  /** Captures of its run (pcaps), relative to the ADR. */
  captures?: string[];
}

export interface AdrInput {
  number: number;
  title: string;
  /** The day it was drafted (YYYY-MM-DD). */
  date: string;
  matrix: CompareMatrix;
  options: readonly AdrOption[];
  /** Scenario id → its title (the decision drivers, in words). */
  scenarioTitles: Readonly<Record<string, string>>;
  /** The comparison's own files, relative to the ADR (matrix.md, matrix.html, matrix.json). */
  matrixLinks: readonly string[];
  /** How the comparison was run, one line (`pnpm lab compare …`). */
  command: string;
}

/** The file name of an ADR: `0011-use-nat66-for-container-egress.md`. */
export function adrFileName(number: number, title: string): string {
  const slug = title
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return `${String(number).padStart(4, '0')}-${slug || 'decision'}.md`;
}

const WORD: Record<VerdictStatus, string> = { pass: 'passes', fail: 'fails', error: 'could not be run', skipped: 'does not apply' };

function cellLine(scenario: string, title: string, cell: MatrixCell): string {
  const declared = cell.expected !== 'pass' && !cell.unexpected ? ' (as its design declares)' : '';
  const flag = cell.unexpected ? ` ⚠ the design declares ${cell.expected}: this cell differs from it` : '';
  return `${title} (\`${scenario}\`) ${WORD[cell.status]}${declared}${flag} — ${cell.summary.replace(/\s+/g, ' ').trim()}`;
}

function paramsText(params: Record<string, unknown> | undefined): string {
  if (!params || Object.keys(params).length === 0) return 'its defaults';
  return Object.entries(params)
    .map(([k, v]) => `\`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}\``)
    .join(', ');
}

function prosAndCons(input: AdrInput, option: AdrOption): string[] {
  const cells = input.matrix.cells[option.column] ?? {};
  const source = input.matrix.columns?.[option.column];
  if (source && source.outcome !== 'ran') return [`* Unknown: this option ${source.outcome === 'missing' ? 'has no results (its cell is missing)' : 'could not be run'}${source.reason ? `: ${source.reason}` : ''}.`];
  const lines: string[] = [];
  const add = (kind: string, status: VerdictStatus) => {
    for (const scenario of input.matrix.scenarios) {
      const cell = cells[scenario];
      if (cell?.status === status) lines.push(`* ${kind}, because ${cellLine(scenario, input.scenarioTitles[scenario] ?? scenario, cell)}`);
    }
  };
  add('Good', 'pass');
  add('Bad', 'fail');
  add('Bad', 'error');
  add('Neutral', 'skipped');
  return lines.length ? lines : ['* No scenario ran for this option.'];
}

/** The ADR draft as Markdown (MADR layout). */
export function renderAdr(input: AdrInput): string {
  const { matrix } = input;
  const flagged = matrix.unexpected;
  const out: string[] = [
    `# ${input.number}. ${input.title}`,
    '',
    '* Status: proposed (a draft written by `lab compare --adr`: the outcome is for a person to choose)',
    `* Date: ${input.date}`,
    '* Deciders: (to be filled in)',
    `* Evidence: ${input.options.length} options × ${matrix.scenarios.length} scenarios on the ${matrix.tier} tier (\`${input.command}\`)${flagged ? `; ⚠ ${flagged} cell(s) differ from what their design declares` : '; every cell as its design declares'}`,
    '',
    '## Context and Problem Statement',
    '',
    "web-arm's containers run on podman's default network (IPv4 only): none of them can reach a destination that has only IPv6. " +
      'Which way should a container that needs IPv6 egress get it, without touching the host\'s own IPv6 address, route and mail path, the live containers, or what the internet can reach? ' +
      `Each option below was applied to web-arm as v6lab reproduces it (the ${matrix.tier} tier) and every scenario was run against it; the verdicts are the evidence this record cites.`,
    '',
    '## Decision Drivers',
    '',
    ...matrix.scenarios.map((s) => `* ${input.scenarioTitles[s] ?? s} (\`${s}\`)`),
    '',
    '## Considered Options',
    '',
    ...input.options.map((o) => `* \`${o.column}\`: ${o.summary} (parameters: ${paramsText(o.params)})`),
    '',
    '## Decision Outcome',
    '',
    'Chosen option: **to be chosen** — the lab proposes the evidence, not the decision. Name the option, the drivers that decided it, and the consequences accepted with it (its "Bad, because" lines below).',
    '',
    '### Consequences',
    '',
    '* (to be filled in from the chosen option\'s pros and cons)',
    '',
    '## Pros and Cons of the Options',
    '',
  ];
  for (const option of input.options) {
    out.push(`### \`${option.column}\``, '', `${option.summary}. Parameters: ${paramsText(option.params)}.`, '', ...prosAndCons(input, option), '');
  }
  out.push('## Links', '', ...input.matrixLinks.map((l) => `* The comparison: [${l}](${l})`));
  for (const option of input.options) {
    if (option.report) out.push(`* Evidence of \`${option.column}\` (every check: command, where, expected, seen): [${option.report}](${option.report})`);
    for (const capture of option.captures ?? []) out.push(`* Capture of \`${option.column}\`: [${capture}](${capture})`);
  }
  return `${out.join('\n')}\n`;
}
