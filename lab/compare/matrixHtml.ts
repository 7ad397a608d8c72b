/**
 * The design × scenario matrix of `lab compare` as one self-contained HTML page: the grid
 * coloured by verdict, a declared verdict on yellow, a cell that differs from its design's
 * declaration framed in red with ⚠; each cell links to that design's HTML report. Pure:
 * returns a string (the page's styles come from the run report's renderer).
 */
import { escapeHtmlText as esc, htmlPage, scenarioAnchor, VERDICT_CLASS } from '../report/html.ts';
import { cellText, webArmStartText, type CompareMatrix } from './matrix.ts';

/** The file name of a design's own HTML report beside matrix.html. */
export function designReportFile(design: string): string {
  return `${design.replace(/[^A-Za-z0-9@_.-]/g, '_')}.report.html`;
}

export function renderMatrixHtml(m: CompareMatrix, opts: { linkReports?: boolean } = {}): string {
  const head = `<tr><th>Scenario</th>${m.designs.map((d) => `<th>${opts.linkReports ? `<a href="${esc(encodeURIComponent(designReportFile(d)))}">${esc(d)}</a>` : esc(d)}</th>`).join('')}</tr>`;
  const rows = m.scenarios.map((s) => {
    const cells = m.designs.map((d) => {
      const cell = m.cells[d]?.[s];
      if (!cell) return '<td class="cell none">—</td>';
      const classes = ['cell', VERDICT_CLASS[cell.status], ...(cell.unexpected ? ['unexpected'] : cell.expected !== 'pass' ? ['declared'] : [])];
      const text = esc(cellText(cell)).replace('⚠', '<span class="warn">⚠</span>');
      const inner = opts.linkReports ? `<a href="${esc(encodeURIComponent(designReportFile(d)))}#${scenarioAnchor(s)}">${text}</a>` : text;
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
  const body = [
    `<h1>v6lab design comparison (${esc(m.tier)} tier)</h1>`,
    `<p class="closing ${m.unexpected ? 'bad' : 'ok'}" id="closing">${m.unexpected ? `⚠ ${m.unexpected} cell(s) differ from what their design declares` : 'every cell is as its design declares'}</p>`,
    '<table id="matrix">',
    `<thead>${head}</thead>`,
    '<tbody>',
    ...rows,
    '</tbody>',
    '</table>',
    '<p class="legend">Green: passed. Red: failed. Purple: the lab broke (error). Grey: skipped. Yellow background, "(expected)": the design declares this verdict (an intended failure, or a scenario that does not apply). ⚠ in a red frame: the verdict differs from the declaration. Hover a cell for its evidence in one line; click it for the design\'s report.</p>',
    ...timing,
  ].join('\n');
  return htmlPage(`v6lab comparison: ${m.designs.join(', ')}`, body);
}
