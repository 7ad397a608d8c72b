/**
 * The HTML reports (lab/report/html.ts, lab/compare/matrixHtml.ts): pure checks of the markup
 * (escaping, links, the SVG made inert, nothing fetched), then the pages as a person sees them:
 * headless Chromium (Debian's package; puppeteer-core drives it) opens the run report rendered
 * from the report fixture and the compare matrix, takes screenshots, and checks the coloured
 * verdict table, the topology SVG (drawn by Graphviz's dot) and an evidence block expanded by a
 * click. Needs no lab. Skipped, saying so, only where no Chromium is installed (CI installs it).
 */
// The functions handed to page.$eval run in the browser: they use the DOM's types.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'puppeteer-core';
import { buildMatrix } from '../../lab/compare/matrix.ts';
import { designReportFile, renderMatrixHtml } from '../../lab/compare/matrixHtml.ts';
import { plannedTopology, renderDot, topologyGraph } from '../../lab/report/graph.ts';
import { renderJsonReport } from '../../lab/report/json.ts';
import { attachmentHref, inlineSvg, renderHtml } from '../../lab/report/html.ts';
import { writeHtmlReport } from '../../lab/report/htmlFiles.ts';
import type { RunReport } from '../../lab/report/model.ts';
import { totalsOf } from '../../lab/report/model.ts';
import { defaultConfig } from '../../lab/topology/config.ts';
import { planLab } from '../../lab/topology/plan.ts';
import { fixtureReport } from './fixtures/report-fixture.ts';
import { titleOrSkipReason } from './helpers/golden.ts';

const MAIN = fileURLToPath(new URL('../../lab/cli/lab.mjs', import.meta.url));
const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];
const chromium = CHROMIUM_CANDIDATES.find((p) => existsSync(p));
/** Screenshots stay here for a person to look at (printed by the test). */
const SHOT_DIR = join(tmpdir(), 'v6lab-html-report');

const dot = renderDot(topologyGraph(plannedTopology(planLab(defaultConfig()))));

/** A second design's run for the matrix: one verdict differs from its declaration (⚠). */
function otherDesign(): RunReport {
  const scenarios = fixtureReport.scenarios.map((s) =>
    s.id === 'egress-nat66' ? { ...s, status: 'fail' as const, summary: 'no reply from 2001:db8:100::1' } : s.id === 'inbound-firewall' ? { ...s, status: 'fail' as const, expected: 'fail' as const } : s,
  );
  return { ...fixtureReport, design: 'routed-subprefix', scenarios, totals: totalsOf(scenarios) };
}

describe('renderHtml (pure)', () => {
  const html = renderHtml(fixtureReport, { topologySvg: '<?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg width="10pt" height="10pt"><g class="node"><text>web-arm</text></g></svg>\n' });

  it('is one page that fetches nothing and runs no script', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|@import|url\(/i);
  });

  it('escapes everything the report carries (evidence is arbitrary command output)', () => {
    expect(html).toContain('open &lt;port 22&gt; &amp; banner &quot;SSH-2.0-OpenSSH_9.6&quot; &#39;x&#39;');
    expect(html).toContain('Inbound &lt;TCP/22&gt; is &quot;dropped&quot; &amp; logged');
    expect(html).not.toMatch(/<(port|subnet6|TCP)\b/);
    expect(html).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/);
  });

  it('has the closing line, a coloured row per scenario, and every check expandable', () => {
    expect(html).toContain('<p class="closing bad" id="closing">2 passed, 1 failed, 1 errored, 1 skipped as declared, 2 unexpected</p>');
    expect(html.match(/<tr class="(pass|fail|error|skip)/g)).toHaveLength(fixtureReport.scenarios.length);
    expect(html).toContain('<tr class="skip declared">');
    expect(html).toContain('<tr class="fail unexpected">');
    const checks = fixtureReport.scenarios.flatMap((s) => s.evidence);
    expect(html.match(/<details class="evidence/g)).toHaveLength(checks.length);
    for (const field of ['command', 'where', 'expected', 'seen']) expect(html.match(new RegExp(`<dt>${field}</dt>`, 'g'))).toHaveLength(checks.length);
  });

  it('links attachments by relative path, and only plain relative paths', () => {
    expect(html).toContain('<a href="pcaps/egress-nat66/upstream.pcap"><code>pcaps/egress-nat66/upstream.pcap</code></a>');
    expect(renderHtml(fixtureReport, { attachmentBase: '../runs/x/' })).toContain('href="../runs/x/pcaps/egress-nat66/upstream.pcap"');
    expect(attachmentHref('a b/c"d.pcap')).toBe('a%20b/c%22d.pcap');
    for (const bad of ['javascript:alert(1)', '../../x.pcap', 'file:///x']) expect(attachmentHref(bad)).toBeUndefined();
    // Recorders write absolute paths inside the run directory: linked relative to it.
    expect(attachmentHref('/lab/runs/r1/attachments/a/up.pcap', '../runs/r1/', '/lab/runs/r1')).toBe('../runs/r1/attachments/a/up.pcap');
    expect(attachmentHref('/elsewhere/up.pcap', '', '/lab/runs/r1')).toBe('file:///elsewhere/up.pcap');
  });

  it('inlines the SVG without its preamble and without anything active', () => {
    expect(html).toContain('<figure id="topology"><svg role="img" aria-label="the lab topology" class="topology"><g class="node">');
    expect(html).not.toContain('<?xml');
    const hostile = inlineSvg('<svg width="1" height="1" onload="x()"><script>x()</script><a xlink:href="javascript:x()"><text onclick="y()">t</text></a><foreignObject><p/></foreignObject></svg>');
    expect(hostile).not.toMatch(/script|onload|onclick|javascript:|foreignObject/i);
    expect(inlineSvg('not svg')).toBeUndefined();
  });

  it('says why there is no drawing when there is none', () => {
    expect(renderHtml(fixtureReport, { topologyNote: 'No topology drawing: Graphviz (dot) was not found' })).toContain('<p class="legend" id="topology">No topology drawing: Graphviz (dot) was not found</p>');
  });
});

describe('renderMatrixHtml (pure)', () => {
  const matrix = buildMatrix([
    { design: 'v6egress', report: fixtureReport, durationMs: 40_000 },
    { design: 'routed-subprefix', report: otherDesign(), durationMs: 41_000 },
  ]);
  const html = renderMatrixHtml(matrix, { linkReports: true });

  it('colours every cell, frames the ⚠ ones, and links each to its design report', () => {
    expect(html.match(/<td class="cell /g)).toHaveLength(matrix.designs.length * matrix.scenarios.length);
    expect(html).toContain('<td class="cell fail declared" title="ssh from v6probe must be refused">');
    expect(html).toMatch(/<td class="cell fail unexpected" title="no reply from 2001:db8:100::1"><a href="routed-subprefix\.report\.html#ev-egress-nat66">FAIL <span class="warn">⚠<\/span> expected PASS<\/a><\/td>/);
    expect(html).toContain(`⚠ ${matrix.unexpected} cell(s) differ from what their design declares`);
    expect(designReportFile('v6egress@v6only')).toBe('v6egress@v6only.report.html');
  });
});

describe('pnpm lab report --html', () => {
  it('renders latest.html again from latest.json (no lab needed), and says what to do without a report', { timeout: 60_000 }, async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'v6lab-report-verb-'));
    try {
      const lab = (...args: string[]) =>
        promisify(execFile)(process.execPath, [MAIN, 'report', ...args], { cwd, encoding: 'utf8', env: { ...process.env, V6LAB_RUNTIME_DIR: join(cwd, 'run') } }).then(
          (r) => ({ code: 0, ...r }),
          (e: { code: number; stdout: string; stderr: string }) => e,
        );
      const none = await lab('--html', '--name', 'rep18');
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('lab "rep18" has no report yet');
      expect(none.stderr).toContain('Fix: run the scenarios first: pnpm lab test --name rep18');

      mkdirSync(join(cwd, '.lab', 'rep18', 'reports'), { recursive: true });
      writeFileSync(join(cwd, '.lab', 'rep18', 'reports', 'latest.json'), renderJsonReport(fixtureReport));
      const ok = await lab('--html', '--name', 'rep18');
      expect(ok.code, ok.stderr).toBe(0);
      const file = join(cwd, '.lab', 'rep18', 'reports', 'latest.html');
      expect(ok.stdout).toContain(file);
      const html = readFileSync(file, 'utf8');
      expect(html).toContain('2 passed, 1 failed, 1 errored, 1 skipped as declared, 2 unexpected');
      // The planned topology (no latest.dot), drawn by dot where Graphviz is installed.
      expect(html).toMatch(existsSync('/usr/bin/dot') ? /<figure id="topology"><svg / : /Graphviz \(dot\) was not found/);

      const noFormat = await lab('--name', 'rep18');
      expect(noFormat.code).toBe(2);
      expect(noFormat.stderr).toContain('lab report needs a format: --html');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!chromium)(titleOrSkipReason('the HTML reports in headless Chromium', Boolean(chromium), `no Chromium at ${CHROMIUM_CANDIDATES.join(', ')}: apt-get install chromium`), () => {
  let browser: Browser;
  let dir: string;
  let userDataDir: string;

  beforeAll(async () => {
    const { launch } = await import('puppeteer-core');
    dir = mkdtempSync(join(tmpdir(), 'v6lab-html-'));
    userDataDir = mkdtempSync(join(tmpdir(), 'v6lab-chromium-'));
    mkdirSync(SHOT_DIR, { recursive: true });
    browser = await launch({
      executablePath: chromium!,
      headless: true,
      userDataDir,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    for (const d of [dir, userDataDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  /** Opens a file, failing on any request that is not the file itself (the page needs no network). */
  async function open(file: string, width = 1280) {
    const page = await browser.newPage();
    await page.setViewport({ width, height: 900 });
    const fetched: string[] = [];
    page.on('request', (r) => fetched.push(r.url()));
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    expect(fetched.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);
    return page;
  }

  it('the run report: coloured verdict table, the topology SVG, an evidence block opened by a click', { timeout: 60_000 }, async () => {
    // Written as lab test writes it: latest.html beside the other reports, report.html in the run directory.
    const reportsDir = join(dir, 'reports');
    const runDir = join(dir, 'runs', 'r1');
    mkdirSync(join(runDir, 'pcaps', 'egress-nat66'), { recursive: true });
    writeFileSync(join(runDir, 'pcaps', 'egress-nat66', 'upstream.pcap'), 'pcap');
    // Recorders write absolute paths into the run directory, as a real lab test does.
    const report = structuredClone(fixtureReport);
    report.scenarios[0]!.evidence[1]!.attachments = [join(runDir, 'pcaps', 'egress-nat66', 'upstream.pcap')];
    const [latest] = await writeHtmlReport(report, dot, { runDir, reportsDir });
    expect(latest).toBe(join(reportsDir, 'latest.html'));
    const page = await open(latest!);

    // The verdict table, one coloured row per scenario.
    const rows = await page.$$eval('#verdicts tbody tr', (trs) =>
      trs.map((tr) => ({ cls: tr.className, verdict: tr.querySelector('td.verdict')!.textContent!.trim(), bg: getComputedStyle(tr.querySelector('td.verdict')!).backgroundColor })),
    );
    expect(rows.map((r) => r.verdict)).toEqual(['PASS', '⚠ FAIL', '⚠ ERROR', 'PASS', 'SKIP (expected)']);
    expect(rows[0]!.bg).toBe('rgb(218, 251, 225)'); // pass: green
    expect(rows[1]!.bg).toBe('rgb(255, 235, 233)'); // fail: red
    expect(rows[4]!.bg).toBe('rgb(255, 248, 197)'); // declared: yellow
    expect(await page.$eval('#closing', (p) => p.textContent)).toBe('2 passed, 1 failed, 1 errored, 1 skipped as declared, 2 unexpected');

    // The topology, drawn by dot, inline and visible, naming the nodes.
    const svg = await page.$eval('#topology svg', (s) => ({ nodes: s.querySelectorAll('g.node').length, width: s.getBoundingClientRect().width, text: s.textContent ?? '' }));
    expect(svg.nodes).toBeGreaterThan(5);
    expect(svg.width).toBeGreaterThan(300);
    expect(svg.text).toContain('web-arm');
    expect(svg.text).toContain('upstream');

    // A passed check is closed; one click opens it and shows command, where, expected, seen.
    const block = await page.$('#ev-egress-nat66 details.evidence');
    expect(await block!.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    await block!.$eval('summary', (s) => s.scrollIntoView());
    await (await block!.$('summary'))!.click();
    const opened = await block!.evaluate((d) => ({
      open: (d as HTMLDetailsElement).open,
      fields: [...d.querySelectorAll('dt')].map((dt) => dt.textContent),
      command: d.querySelector('dd pre')!.textContent,
      height: d.querySelector('dl')!.getBoundingClientRect().height,
    }));
    expect(opened).toMatchObject({ open: true, fields: ['command', 'where', 'expected', 'seen'], command: 'ping -6 -c 3 -W 1 2001:db8:100::1' });
    expect(opened.height).toBeGreaterThan(40);

    // Hostile evidence shows as text, and the pcap link reaches the file from latest.html.
    const seen = await page.$$eval('#ev-inbound-firewall dd pre', (p) => p.map((x) => x.textContent));
    expect(seen).toContain('open <port 22> & banner "SSH-2.0-OpenSSH_9.6" \'x\' *bold* _u_');
    expect(await page.$$('port, subnet6')).toHaveLength(0);
    const href = await page.$eval('a[href$="upstream.pcap"]', (a) => (a as HTMLAnchorElement).href);
    expect(href).toBe(pathToFileURL(join(runDir, 'pcaps', 'egress-nat66', 'upstream.pcap')).href);

    const shot = join(SHOT_DIR, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    process.stderr.write(`screenshot: ${shot}\n`);
    await page.close();
  });

  it('the compare matrix: the design × scenario grid coloured, the ⚠ cells framed', { timeout: 60_000 }, async () => {
    const matrix = buildMatrix(
      [
        { design: 'v6egress', report: fixtureReport, durationMs: 40_000 },
        { design: 'routed-subprefix', report: otherDesign(), durationMs: 41_000 },
      ],
      { totalMs: 81_000 },
    );
    const file = join(dir, 'matrix.html');
    writeFileSync(file, renderMatrixHtml(matrix, { linkReports: true }));
    const page = await open(file, 900);
    const cells = await page.$$eval('#matrix td.cell', (tds) => tds.map((td) => ({ cls: td.className, outline: getComputedStyle(td).outlineStyle, text: td.textContent })));
    expect(cells).toHaveLength(matrix.designs.length * matrix.scenarios.length);
    const warned = cells.filter((c) => c.cls.includes('unexpected'));
    expect(warned.length).toBe(matrix.unexpected);
    for (const c of warned) {
      expect(c.text).toContain('⚠');
      expect(c.outline).toBe('solid');
    }
    expect(cells.filter((c) => !c.cls.includes('unexpected')).every((c) => c.outline === 'none')).toBe(true);
    const shot = join(SHOT_DIR, 'matrix.png');
    await page.screenshot({ path: shot, fullPage: true });
    process.stderr.write(`screenshot: ${shot}\n`);
    await page.close();
  });
});
