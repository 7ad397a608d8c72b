/**
 * JUnit XML rendering of a run report, for CI systems that show test results.
 * One <testsuite> per report, one <testcase> per scenario. Counts come from the scenarios.
 */

import { totalsOf } from './model.ts';
import type { Evidence, RunReport, ScenarioVerdict } from './model.ts';
import { evidenceFinding, evidenceHeadline, oneLine, stripAnsi } from './table.ts';

/** Characters XML 1.0 does not allow anywhere (lone surrogates included, thanks to the `u` flag). */
const XML_ILLEGAL = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Removes characters that are illegal in XML 1.0 documents. */
export function stripXmlIllegal(text: string): string {
  return text.replace(XML_ILLEGAL, '');
}

/** Escapes text content (ANSI colour sequences are dropped, illegal characters stripped). */
export function escapeXmlText(text: string): string {
  return stripXmlIllegal(stripAnsi(text))
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Escapes an attribute value; tabs and line breaks become character references so they survive. */
export function escapeXmlAttr(text: string): string {
  return escapeXmlText(text).replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

function seconds(ms: number): string {
  return Number.isFinite(ms) && ms >= 0 ? (ms / 1000).toFixed(3) : '0.000';
}

function attrs(pairs: readonly (readonly [string, string | number])[]): string {
  return pairs.map(([k, v]) => ` ${k}="${escapeXmlAttr(String(v))}"`).join('');
}

/** Multi-line values keep their lines, indented under their label. */
function field(label: string, value: string): string {
  const [first = '', ...rest] = value.split(/\r?\n/);
  return [`  ${label}: ${first}`, ...rest.map((l) => `    ${l}`)].join('\n');
}

function evidenceBlock(e: Evidence, index: number): string {
  const lines = [
    `[${index + 1}] ${e.ok ? 'ok' : 'NOT OK'}: ${e.check}`,
    field('check', e.check),
    field('node', e.node),
    field('command', e.command),
    field('expected', e.expected),
    field('seen', e.seen),
    field('ok', String(e.ok)),
    field('realism', e.realism),
  ];
  if (e.attachments && e.attachments.length > 0) lines.push(field('attachments', e.attachments.join(', ')));
  return lines.join('\n');
}

function systemOut(s: ScenarioVerdict): string {
  const head = [
    `scenario: ${s.id}`,
    `title: ${s.title}`,
    `status: ${s.status}`,
    `tier: ${s.tier} (${s.realism})`,
    `summary: ${s.summary}`,
  ];
  const body = s.evidence.length > 0 ? s.evidence.map(evidenceBlock) : ['(no evidence recorded)'];
  return [...head, '', ...body].join('\n');
}

/** The failure/error body: the error message, then every failing piece of evidence. */
function problemDetails(s: ScenarioVerdict): string {
  const parts: string[] = [];
  if (s.error && s.error.trim() !== '') parts.push(s.error);
  for (const e of s.evidence.filter((x) => !x.ok)) parts.push(`${evidenceFinding(e)} (on ${e.node}: ${e.command})`);
  if (parts.length === 0) parts.push(s.summary);
  return parts.join('\n');
}

function testcase(s: ScenarioVerdict, indent: string): string {
  const open = `${indent}<testcase${attrs([
    ['classname', `v6lab.${s.tier}.${s.design}`],
    ['name', `${s.id}: ${s.title}`],
    ['time', seconds(s.durationMs)],
  ])}>`;
  const inner = `${indent}  `;
  const lines = [open];
  const message = oneLine(evidenceHeadline(s));
  if (s.status === 'fail') {
    lines.push(`${inner}<failure${attrs([['message', message], ['type', 'VerdictError']])}>${escapeXmlText(problemDetails(s))}</failure>`);
  } else if (s.status === 'error') {
    lines.push(`${inner}<error${attrs([['message', message], ['type', 'LabError']])}>${escapeXmlText(problemDetails(s))}</error>`);
  } else if (s.status === 'skipped') {
    lines.push(`${inner}<skipped/>`);
  }
  lines.push(`${inner}<system-out>${escapeXmlText(systemOut(s))}</system-out>`);
  lines.push(`${indent}</testcase>`);
  return lines.join('\n');
}

/** The report as a JUnit XML document (UTF-8, XML 1.0), ending in a newline. */
export function renderJUnit(report: RunReport): string {
  const t = totalsOf(report.scenarios);
  const counts: [string, string | number][] = [
    ['tests', report.scenarios.length],
    ['failures', t.failed],
    ['errors', t.errored],
    ['skipped', t.skipped],
    ['time', seconds(report.durationMs)],
  ];
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs([['name', 'v6lab'], ...counts])}>`,
    `  <testsuite${attrs([
      ['name', `v6lab ${report.design} on ${report.tier}`],
      ...counts,
      ['timestamp', report.startedAt],
    ])}>`,
    ...report.scenarios.map((s) => testcase(s, '    ')),
    '  </testsuite>',
    '</testsuites>',
  ];
  return lines.join('\n') + '\n';
}
