/**
 * Markdown rendering of a run report (GitHub-flavoured): a verdict table, the topology as a
 * mermaid diagram when given, then every scenario's evidence in a collapsible section.
 */

import type { Evidence, RunReport, ScenarioVerdict, VerdictStatus } from './model.ts';
import { closingLine, forkLines, evidenceHeadline, formatDuration, oneLine, stripAnsi, tierCell, tierLabel, verdictLabel } from './table.ts';

export interface MarkdownOptions {
  /** A mermaid graph of the topology (without the ``` fence). */
  topologyMermaid?: string;
}

const VERDICT_ICON: Record<VerdictStatus, string> = {
  pass: '✅',
  fail: '❌',
  error: '💥',
  skipped: '⏭️',
};

/** ANSI sequences and control characters other than tab and newline, which no renderer wants. */
function stripControl(text: string): string {
  return stripAnsi(text).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, '').replace(/\r\n?/g, '\n');
}

/** Escapes text for HTML context (inside <summary>, where markdown is not processed). */
export function escapeHtml(text: string): string {
  return stripControl(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/**
 * Escapes one line of inline markdown text: HTML-significant characters become entities,
 * markdown punctuation gets a backslash (pipes included, so it is safe in table cells).
 */
export function escapeMarkdownInline(text: string): string {
  return oneLine(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|~#]/g, (c) => `\\${c}`)
    .replace(/^([-+=])/, '\\$1')
    .replace(/^(\d+)([.)])/, '$1\\$2');
}

/** A table cell: inline-escaped, with pipes escaped. */
export function markdownCell(text: string): string {
  return escapeMarkdownInline(text);
}

function longestRun(text: string, char: string): number {
  let best = 0;
  let run = 0;
  for (const c of text) {
    run = c === char ? run + 1 : 0;
    if (run > best) best = run;
  }
  return best;
}

/** An inline code span that survives backticks in its content. One line only. */
export function codeSpan(text: string): string {
  const content = oneLine(text);
  if (content === '') return '` `';
  const fence = '`'.repeat(longestRun(content, '`') + 1);
  const pad = content.startsWith('`') || content.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${content}${pad}${fence}`;
}

/** A fenced code block that survives backtick runs in its content, every line indented. */
function codeBlock(text: string, info: string, indent: string): string {
  const content = stripControl(text).replace(/\n+$/, '');
  const fence = '`'.repeat(Math.max(3, longestRun(content, '`') + 1));
  return [`${fence}${info}`, ...content.split('\n'), fence].map((l) => (l === '' ? '' : indent + l)).join('\n');
}

/** A labelled value in an evidence list: inline when one line, a code block when several. */
function valueLine(label: string, value: string, indent: string): string {
  const clean = stripControl(value).replace(/\n+$/, '');
  if (clean.includes('\n')) return `${indent}- ${label}:\n\n${codeBlock(clean, 'text', indent + '  ')}`;
  return `${indent}- ${label}: ${clean.trim() === '' ? '_(empty)_' : escapeMarkdownInline(clean)}`;
}

function evidenceItem(e: Evidence): string {
  const icon = e.ok ? '✅' : '❌';
  const lines = [
    `- ${icon} **${escapeMarkdownInline(e.check)}** on ${codeSpan(e.node)} (${e.realism})`,
    `  - command: ${codeSpan(e.command)}`,
    valueLine('expected', e.expected, '  '),
    valueLine('seen', e.seen, '  '),
  ];
  if (e.attachments && e.attachments.length > 0) {
    lines.push(`  - attachments: ${e.attachments.map(codeSpan).join(', ')}`);
  }
  return lines.join('\n');
}

function scenarioDetails(s: ScenarioVerdict): string {
  const summary =
    `<summary>${VERDICT_ICON[s.status]} <strong>${escapeHtml(oneLine(s.id))}</strong>: ` +
    `${escapeHtml(oneLine(s.title))} (${verdictLabel(s.status, s.expected)}, ${escapeHtml(tierLabel(s))}, ${formatDuration(s.durationMs)})</summary>`;
  const parts = ['<details>', summary, '', `${escapeMarkdownInline(s.summary)}`];
  if (s.error && s.error.trim() !== '') {
    parts.push('', '**Error:**', '', codeBlock(s.error, 'text', ''));
  }
  parts.push('');
  if (s.evidence.length === 0) parts.push('_No evidence recorded._');
  else parts.push(s.evidence.map(evidenceItem).join('\n'));
  parts.push('', '</details>');
  return parts.join('\n');
}

/** The report as GitHub-flavoured markdown, ending in a newline. */
export function renderMarkdown(report: RunReport, opts: MarkdownOptions = {}): string {
  const out: string[] = [];
  out.push(
    `# v6lab report: ${escapeMarkdownInline(report.lab)}`,
    '',
    `- Lab: ${codeSpan(report.lab)}`,
    `- Design: ${codeSpan(report.design)}`,
    `- Tier: ${codeSpan(report.tier)}`,
    `- Started: ${escapeMarkdownInline(report.startedAt)}, finished: ${escapeMarkdownInline(report.finishedAt)} (${formatDuration(report.durationMs)})`,
    '',
    '| Scenario | Verdict | Tier | Duration | Evidence |',
    '| --- | --- | --- | ---: | --- |',
  );
  for (const s of report.scenarios) {
    const cells = [
      markdownCell(s.id),
      `${VERDICT_ICON[s.status]} ${verdictLabel(s.status, s.expected)}`,
      markdownCell(tierCell(s)),
      formatDuration(s.durationMs),
      markdownCell(evidenceHeadline(s)),
    ];
    out.push(`| ${cells.join(' | ')} |`);
  }
  out.push('', `**${closingLine(report.scenarios)}**`);
  const forks = forkLines(report);
  if (forks.length) out.push('', 'Shared among forked web-arms (`lab test --parallel`):', '', ...forks.map((l) => `- ${markdownCell(l)}`));

  const mermaid = opts.topologyMermaid?.trim();
  if (mermaid) {
    out.push('', '## Topology', '', codeBlock(mermaid, 'mermaid', ''));
  }

  out.push('', '## Evidence');
  for (const s of report.scenarios) out.push('', scenarioDetails(s));
  return out.join('\n') + '\n';
}
