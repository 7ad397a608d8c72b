/**
 * HTML rendering of a run report: one self-contained page a person opens in a browser beside
 * the pcaps. The verdict table coloured by result (with the closing line), the topology as
 * inline SVG (rendered by Graphviz when the report is written, see svg.ts), every check's
 * evidence expandable (command, where, expected, seen), links to the attachments (relative
 * paths). No script, no network: a Content-Security-Policy forbids both. Everything from the
 * report is escaped (evidence carries arbitrary command output).
 * Pure: returns a string. The page's styles and helpers are shared with the compare matrix.
 */

import { isAbsolute, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Evidence, RunReport, ScenarioVerdict, VerdictStatus } from './model.ts';
import { isUnexpected } from './model.ts';
import { closingLine, evidenceHeadline, formatDuration, oneLine, stripAnsi, tierLabel, verdictLabel } from './table.ts';

export interface HtmlOptions {
  /** The topology drawn by Graphviz (`dot -Tsvg`), inlined as it is after {@link inlineSvg}. */
  topologySvg?: string;
  /** Why there is no drawing (e.g. Graphviz missing), shown in its place. */
  topologyNote?: string;
  /** Prefix of the attachments' relative paths (they are relative to the run directory), e.g. "../runs/<id>/". */
  attachmentBase?: string;
  /** The run directory: absolute attachment paths inside it are linked relative to it. */
  runDir?: string;
}

/** Text for HTML content and attribute values: ANSI and control characters dropped, the five specials escaped. */
export function escapeHtmlText(text: string): string {
  return stripAnsi(String(text))
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const esc = escapeHtmlText;

/**
 * The link to an attachment. Recorders write absolute paths inside the run directory: those
 * become paths relative to it (then prefixed with `base`), so the report and its pcaps move
 * together; another absolute path links as a file: URL; a relative path is relative to the run
 * directory already. Undefined (shown unlinked) for a scheme such as javascript: or a relative
 * path climbing out with `..`.
 */
export function attachmentHref(path: string, base = '', runDir?: string): string | undefined {
  let rel = path;
  if (isAbsolute(path)) {
    const inside = runDir ? relative(runDir, path) : '..';
    if (inside.startsWith('..') || isAbsolute(inside)) return esc(pathToFileURL(path).href);
    rel = inside.split(sep).join('/');
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(rel) || rel.startsWith('\\') || rel.split('/').includes('..')) return undefined;
  return esc(base + rel.split('/').map(encodeURIComponent).join('/'));
}

/**
 * Graphviz's SVG made fit to sit inside the page: the XML declaration, doctype and comments
 * dropped; anything active (script, foreignObject, event attributes, javascript: links) removed
 * although the page's CSP would block it anyway; fixed pt sizes replaced by a width the page
 * scales.
 */
export function inlineSvg(svg: string): string | undefined {
  const start = svg.indexOf('<svg');
  const end = svg.lastIndexOf('</svg>');
  if (start < 0 || end < start) return undefined;
  return svg
    .slice(start, end + '</svg>'.length)
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|foreignObject)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<(script|foreignObject)\b[^>]*\/?>/gi, '')
    .replace(/\s(on[a-z]+)\s*=\s*("[^"]*"|'[^']*')/gi, '')
    .replace(/(xlink:href|href)\s*=\s*("\s*javascript:[^"]*"|'\s*javascript:[^']*')/gi, '')
    .replace(/^<svg width="[^"]*" height="[^"]*"/, '<svg role="img" aria-label="the lab topology" class="topology"');
}

export const VERDICT_CLASS: Record<VerdictStatus, string> = { pass: 'pass', fail: 'fail', error: 'error', skipped: 'skip' };

/** The page around a body: styles inline, nothing fetched, no script allowed. */
export function htmlPage(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
:root { --pass: #1a7f37; --pass-bg: #dafbe1; --fail: #cf222e; --fail-bg: #ffebe9; --error: #8250df; --error-bg: #fbefff;
  --skip: #6e7781; --skip-bg: #f0f1f3; --declared-bg: #fff8c5; --line: #d0d7de; --muted: #57606a; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 24px auto; max-width: 1200px; padding: 0 16px; color: #1f2328; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.meta { color: var(--muted); margin: 0 0 12px; } .meta code { color: #1f2328; }
code, pre { font: 12.5px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; margin: 2px 0; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 24em; overflow: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.num { text-align: right; white-space: nowrap; } #verdicts td:first-child { white-space: nowrap; }
td.verdict { font-weight: 600; white-space: nowrap; }
tr.pass td.verdict, td.cell.pass { background: var(--pass-bg); color: var(--pass); }
tr.fail td.verdict, td.cell.fail { background: var(--fail-bg); color: var(--fail); }
tr.error td.verdict, td.cell.error { background: var(--error-bg); color: var(--error); }
tr.skip td.verdict, td.cell.skip { background: var(--skip-bg); color: var(--skip); }
tr.declared td.verdict, td.cell.declared { background: var(--declared-bg); }
tr.unexpected td.verdict, td.cell.unexpected { outline: 3px solid var(--fail); outline-offset: -3px; font-weight: 700; }
.warn { color: var(--fail); font-weight: 700; }
.closing { font-size: 16px; font-weight: 600; padding: 8px 12px; border-radius: 6px; margin: 12px 0; }
.closing.ok { background: var(--pass-bg); color: var(--pass); } .closing.bad { background: var(--fail-bg); color: var(--fail); }
.legend { color: var(--muted); font-size: 13px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 8px; overflow-x: auto; text-align: center; }
svg.topology { max-width: 100%; height: auto; }
section.scenario { border: 1px solid var(--line); border-left: 6px solid var(--skip); border-radius: 6px; padding: 4px 12px 8px; margin: 10px 0; }
section.scenario.pass { border-left-color: var(--pass); } section.scenario.fail { border-left-color: var(--fail); }
section.scenario.error { border-left-color: var(--error); }
section.scenario h3 { font-size: 15px; margin: 6px 0; }
details.evidence { border: 1px solid var(--line); border-radius: 6px; margin: 6px 0; padding: 2px 8px; }
details.evidence > summary { cursor: pointer; padding: 3px 0; }
details.evidence.notok > summary { color: var(--fail); font-weight: 600; }
details.evidence.ok .mark { color: var(--pass); font-weight: 700; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 6px 0; }
dt { font-weight: 600; color: var(--muted); } dd { margin: 0; min-width: 0; }
a { color: #0969da; } td.cell a { color: inherit; }
</style>
</head>
<body>
${body}
</body>
</html>
`;
}

function evidenceBlock(e: Evidence, base: string, runDir?: string): string {
  const attachments = (e.attachments ?? []).map((a) => {
    const href = attachmentHref(a, base, runDir);
    return href ? `<a href="${href}"><code>${esc(a)}</code></a>` : `<code>${esc(a)}</code>`;
  });
  // A check that did not hold is open from the start; the others open with a click.
  return [
    `<details class="evidence ${e.ok ? 'ok' : 'notok'}"${e.ok ? '' : ' open'}>`,
    `<summary><span class="mark">${e.ok ? '✓' : '✗'}</span> ${esc(e.check)} <span class="legend">on ${esc(e.node)} (${esc(e.realism)})</span></summary>`,
    '<dl>',
    `<dt>command</dt><dd><pre>${esc(e.command)}</pre></dd>`,
    `<dt>where</dt><dd><code>${esc(e.node)}</code> (${esc(e.realism)})</dd>`,
    `<dt>expected</dt><dd><pre>${esc(e.expected)}</pre></dd>`,
    `<dt>seen</dt><dd><pre>${esc(e.seen)}</pre></dd>`,
    ...(attachments.length ? [`<dt>attachments</dt><dd>${attachments.join(', ')}</dd>`] : []),
    '</dl>',
    '</details>',
  ].join('\n');
}

/** The id of a scenario's section ("ev-egress-nat66"), safe in an attribute and a fragment. */
export function scenarioAnchor(id: string): string {
  return `ev-${oneLine(id).replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

function scenarioSection(s: ScenarioVerdict, base: string, runDir?: string): string {
  const parts = [
    `<section class="scenario ${VERDICT_CLASS[s.status]}" id="${scenarioAnchor(s.id)}">`,
    `<h3>${esc(s.id)}: ${esc(s.title)} <span class="legend">(${esc(verdictLabel(s.status, s.expected))}, ${esc(tierLabel(s))}, ${formatDuration(s.durationMs)})</span></h3>`,
    `<p>${esc(s.summary)}</p>`,
  ];
  if (s.error && s.error.trim() !== '') parts.push(`<p><strong>Error:</strong></p><pre>${esc(s.error)}</pre>`);
  parts.push(s.evidence.length ? s.evidence.map((e) => evidenceBlock(e, base, runDir)).join('\n') : '<p class="legend">No evidence recorded.</p>');
  parts.push('</section>');
  return parts.join('\n');
}

function verdictRow(s: ScenarioVerdict): string {
  const unexpected = isUnexpected(s);
  const declared = !unexpected && (s.expected ?? 'pass') !== 'pass';
  const classes = [VERDICT_CLASS[s.status], ...(declared ? ['declared'] : []), ...(unexpected ? ['unexpected'] : [])];
  return (
    `<tr class="${classes.join(' ')}">` +
    `<td><a href="#${scenarioAnchor(s.id)}">${esc(s.id)}</a></td>` +
    `<td class="verdict">${unexpected ? '<span class="warn">⚠</span> ' : ''}${esc(verdictLabel(s.status, s.expected))}</td>` +
    `<td>${esc(tierLabel(s))}</td>` +
    `<td class="num">${formatDuration(s.durationMs)}</td>` +
    `<td>${esc(oneLine(evidenceHeadline(s)))}</td>` +
    '</tr>'
  );
}

/** The report as one self-contained HTML page, ending in a newline. */
export function renderHtml(report: RunReport, opts: HtmlOptions = {}): string {
  const base = opts.attachmentBase ?? '';
  const unexpected = report.scenarios.filter(isUnexpected).length;
  const svg = opts.topologySvg ? inlineSvg(opts.topologySvg) : undefined;
  const body = [
    `<h1>v6lab report: ${esc(report.lab)}</h1>`,
    `<p class="meta">design <code>${esc(report.design)}</code> · tier <code>${esc(report.tier)}</code> · started ${esc(report.startedAt)} · finished ${esc(report.finishedAt)} (${formatDuration(report.durationMs)})</p>`,
    `<p class="closing ${unexpected === 0 ? 'ok' : 'bad'}" id="closing">${esc(closingLine(report.scenarios))}</p>`,
    '<h2>Verdicts</h2>',
    '<table id="verdicts">',
    '<thead><tr><th>Scenario</th><th>Verdict</th><th>Tier</th><th>Duration</th><th>Evidence</th></tr></thead>',
    '<tbody>',
    ...report.scenarios.map(verdictRow),
    '</tbody>',
    '</table>',
    '<p class="legend">Green: passed. Red: failed. Purple: the lab broke (error). Grey: skipped. Yellow background: the design declares this verdict (an intended failure, or a scenario that does not apply). ⚠ with a red frame: the verdict differs from what the design declares.</p>',
    '<h2>Topology</h2>',
    svg
      ? `<figure id="topology">${svg}</figure>`
      : `<p class="legend" id="topology">${esc(opts.topologyNote ?? 'No topology drawing.')}</p>`,
    '<h2>Evidence</h2>',
    '<p class="legend">Every check: the command, where it ran, what was expected, what was seen, and its attachments (pcaps open in Wireshark). A check that did not hold is open; click any other to open it.</p>',
    ...report.scenarios.map((s) => scenarioSection(s, base, opts.runDir)),
  ].join('\n');
  return htmlPage(`v6lab report: ${report.lab} (${report.design} on ${report.tier})`, body);
}
