/**
 * The design × scenario matrix of `lab compare` as one self-contained HTML page: the grid
 * coloured by verdict, a declared verdict on yellow, a cell that differs from its design's
 * declaration framed in red with ⚠; each cell links to that design's HTML report. Pure:
 * returns a string (the page's styles come from the run report's renderer).
 */
import { escapeHtmlText as esc, htmlPage, scenarioAnchor, VERDICT_CLASS } from '../report/html.ts';
import { closingLines, gridText, notRunColumns, webArmStartText, type CompareMatrix } from './matrix.ts';

/** The file name of a design's own HTML report beside matrix.html. */
export function designReportFile(design: string): string {
  return `${design.replace(/[^A-Za-z0-9@_.-]/g, '_')}.report.html`;
}

export function renderMatrixHtml(m: CompareMatrix, opts: { linkReports?: boolean } = {}): string {
  const ran = (d: string) => (m.columns?.[d]?.outcome ?? 'ran') === 'ran';
  const link = (d: string) => opts.linkReports && ran(d);
  const head = `<tr><th>Scenario</th>${m.designs.map((d) => `<th>${link(d) ? `<a href="${esc(encodeURIComponent(designReportFile(d)))}">${esc(d)}</a>` : esc(d)}</th>`).join('')}</tr>`;
  const rows = m.scenarios.map((s) => {
    const cells = m.designs.map((d) => {
      const warn = (text: string) => esc(text).replace('⚠', '<span class="warn">⚠</span>');
      if (!ran(d)) return `<td class="cell error unexpected" title="${esc(m.columns?.[d]?.reason ?? '')}">${warn(gridText(m, d, s))}</td>`;
      const cell = m.cells[d]?.[s];
      if (!cell) return '<td class="cell none">—</td>';
      const classes = ['cell', VERDICT_CLASS[cell.status], ...(cell.unexpected ? ['unexpected'] : cell.expected !== 'pass' ? ['declared'] : [])];
      const text = warn(gridText(m, d, s));
      const inner = link(d) ? `<a href="${esc(encodeURIComponent(designReportFile(d)))}#${scenarioAnchor(s)}">${text}</a>` : text;
      return `<td class="${classes.join(' ')}" title="${esc(cell.summary)}">${inner}</td>`;
    });
    return `<tr><td>${esc(s)}</td>${cells.join('')}</tr>`;
  });
  const timing = [
    ...(m.webArm
      ? ['<h2>How each lab came up</h2>', '<table id="runs"><thead><tr><th>Design</th><th>web-arm</th><th>Whole run</th></tr></thead><tbody>',
          ...m.designs.map((d) => `<tr><td>${esc(d)}</td><td>${m.webArm?.[d] ? esc(webArmStartText(m.webArm[d]!)) : '—'}</td><td class="num">${((m.durationsMs[d] ?? 0) / 1000).toFixed(1)} s</td></tr>`),
          '</tbody></table>']
      : []),
    ...(m.totalMs !== undefined ? [`<p class="legend">Compared in ${(m.totalMs / 1000).toFixed(1)} s.</p>`] : []),
  ];
  const [closing, ...more] = closingLines(m);
  const sources = m.columns
    ? ['<h2>Cells</h2>', '<table id="cells"><thead><tr><th>Column</th><th>Cell</th><th>Machine</th><th>Outcome</th></tr></thead><tbody>',
        ...m.designs.flatMap((d) => {
          const c = m.columns?.[d];
          return c ? [`<tr><td>${esc(d)}</td><td>${esc(c.cell)}</td><td>${esc(c.machine ?? '—')}</td><td>${esc(c.outcome === 'ran' ? 'ran' : `${c.outcome}: ${c.reason ?? ''}`)}${c.allowFailure ? ' (allowed to fail)' : ''}</td></tr>`] : [];
        }),
        '</tbody></table>']
    : [];
  const body = [
    `<h1>v6lab design comparison (${esc(m.tier)} tier)</h1>`,
    `<p class="closing ${m.unexpected || notRunColumns(m).length ? 'bad' : 'ok'}" id="closing">${m.unexpected ? '⚠ ' : ''}${esc(closing!)}</p>`,
    ...more.map((l) => `<p class="closing bad">${esc(l)}</p>`),
    '<table id="matrix">',
    `<thead>${head}</thead>`,
    '<tbody>',
    ...rows,
    '</tbody>',
    '</table>',
    '<p class="legend">Green: passed. Red: failed. Purple: the lab broke (error). Grey: skipped. Yellow background, "(expected)": the design declares this verdict (an intended failure, or a scenario that does not apply). ⚠ in a red frame: the verdict differs from the declaration. Hover a cell for its evidence in one line; click it for the design\'s report.</p>',
    ...sources,
    ...timing,
  ].join('\n');
  return htmlPage(`v6lab comparison: ${m.designs.join(', ')}`, body);
}
