import { describe, expect, it } from 'vitest';
import { renderJsonReport } from '../../lab/report/json.ts';
import { escapeXmlAttr, escapeXmlText, renderJUnit } from '../../lab/report/junit.ts';
import { escapeMarkdownInline, renderMarkdown } from '../../lab/report/markdown.ts';
import { totalsOf } from '../../lab/report/model.ts';
import type { RunReport, ScenarioVerdict } from '../../lab/report/model.ts';
import { closingLine, formatDuration, renderVerdictTable, truncate } from '../../lab/report/table.ts';
import { fixtureMermaid, fixtureReport } from './fixtures/report-fixture.ts';
import { expectGolden } from './helpers/golden.ts';

const ANSI = /\u001b\[[0-9;]*m/g;
const TOTALS_RE = /^\d+ passed(, \d+ failed)?(, \d+ failed as declared)?(, \d+ errored)?(, \d+ skipped)?(, \d+ skipped as declared)?, \d+ unexpected$/;

function scenario(overrides: Partial<ScenarioVerdict>): ScenarioVerdict {
  return {
    id: 'only',
    title: 'Only scenario',
    status: 'pass',
    tier: 'netns',
    realism: 'real',
    design: 'nat66',
    durationMs: 100,
    summary: 'fine',
    evidence: [],
    ...overrides,
  };
}

function reportOf(scenarios: ScenarioVerdict[]): RunReport {
  return { ...fixtureReport, scenarios, totals: totalsOf(scenarios) };
}

/**
 * A small XML 1.0 well-formedness check: balanced, properly nested tags with quoted,
 * unique attributes; text and attribute values only use the five entities or character refs.
 */
function assertWellFormedXml(xml: string): void {
  let body = xml;
  const decl = /^<\?xml [^?]*\?>\n/.exec(body);
  if (decl) body = body.slice(decl[0].length);
  const badAmp = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;
  const stack: string[] = [];
  let roots = 0;
  let pos = 0;
  const tagRe = /<[^<>]*>/g;
  for (let m = tagRe.exec(body); m; m = tagRe.exec(body)) {
    const text = body.slice(pos, m.index);
    expect(text, `text before ${m[0]}`).not.toMatch(/[<>]/);
    expect(text, `text before ${m[0]}`).not.toMatch(badAmp);
    if (stack.length === 0) expect(text.trim(), 'text outside the root').toBe('');
    pos = m.index + m[0].length;
    const tag = /^<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w.-]+="[^"<]*")*)\s*(\/?)>$/.exec(m[0]);
    expect(tag, `malformed tag ${m[0]}`).not.toBeNull();
    if (!tag) return;
    const [, close, name = '', attrText = '', selfClose] = tag;
    const names = [...attrText.matchAll(/([\w.-]+)="([^"]*)"/g)].map((a) => {
      expect(a[2], `attribute ${a[1]} of <${name}>`).not.toMatch(badAmp);
      return a[1];
    });
    expect(new Set(names).size, `duplicate attribute in ${m[0]}`).toBe(names.length);
    if (close) {
      expect(stack.pop(), `closing </${name}>`).toBe(name);
    } else {
      if (stack.length === 0) roots += 1;
      if (!selfClose) stack.push(name);
    }
  }
  expect(body.slice(pos).trim()).toBe('');
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
}

describe('golden files', () => {
  it('table', () => expectGolden('report.table.txt', renderVerdictTable(fixtureReport)));
  it('junit', () => expectGolden('report.junit.xml', renderJUnit(fixtureReport)));
  it('markdown', () =>
    expectGolden('report.md', renderMarkdown(fixtureReport, { topologyMermaid: fixtureMermaid })));
  it('json', () => expectGolden('report.json', renderJsonReport(fixtureReport)));
});

describe('renderVerdictTable', () => {
  const table = renderVerdictTable(fixtureReport);
  const lines = table.trimEnd().split('\n');

  it('ends with the totals line, alone on its line', () => {
    expect(lines.at(-1)).toBe('2 passed, 1 failed, 1 errored, 1 skipped as declared, 2 unexpected');
    expect(lines.at(-2)).toBe('');
    expect(table.endsWith('\n')).toBe(true);
    expect(lines.filter((l) => TOTALS_RE.test(l))).toHaveLength(1);
  });

  it('leaves out zero errored and skipped counts, never passed, failed or unexpected', () => {
    const of = (...list: Array<[ScenarioVerdict['status'], ScenarioVerdict['expected']?]>) =>
      closingLine(list.map(([status, expected]) => ({ status, ...(expected ? { expected } : {}) })));
    expect(of()).toBe('0 passed, 0 failed, 0 unexpected');
    expect(of(['pass'], ['pass'], ['pass'], ['skipped'], ['skipped'])).toBe('3 passed, 0 failed, 2 skipped, 2 unexpected');
    expect(of(['pass'], ['fail'], ['fail'], ['error'])).toBe('1 passed, 2 failed, 1 errored, 3 unexpected');
    const t = renderVerdictTable(reportOf([scenario({})])).trimEnd().split('\n');
    expect(t.at(-1)).toBe('1 passed, 0 failed, 0 unexpected');
  });

  it('separates declared from undeclared: the issue\'s own example', () => {
    const run = [
      ...Array.from({ length: 15 }, () => ({ status: 'pass' as const })),
      { status: 'fail' as const, expected: 'fail' as const },
      ...Array.from({ length: 5 }, () => ({ status: 'skipped' as const, expected: 'skipped' as const })),
    ];
    expect(closingLine(run)).toBe('15 passed, 1 failed as declared, 5 skipped as declared, 0 unexpected');
    // A declared failure that passed counts as passed and as unexpected; declared and undeclared failures both show.
    expect(closingLine([{ status: 'pass', expected: 'fail' }, { status: 'fail' }, { status: 'fail', expected: 'fail' }])).toBe(
      '1 passed, 1 failed, 1 failed as declared, 2 unexpected',
    );
    // An error is never declared, and a skip where a failure was declared is not "as declared".
    expect(closingLine([{ status: 'error', expected: 'fail' }, { status: 'skipped', expected: 'fail' }])).toBe('0 passed, 0 failed, 1 errored, 1 skipped, 2 unexpected');
  });

  it('counts from the scenarios, so skipped is never counted as passed', () => {
    const t = renderVerdictTable(reportOf([scenario({ status: 'skipped' })])).trimEnd().split('\n');
    expect(t.at(-1)).toBe('0 passed, 0 failed, 1 skipped, 1 unexpected');
  });

  it('has a header and one row per scenario with verdict, tier and duration', () => {
    expect(lines[0]).toMatch(/^SCENARIO\s+VERDICT\s+TIER\s+DURATION\s+EVIDENCE$/);
    const row = (id: string) => lines.find((l) => l.startsWith(`${id} `)) ?? '';
    expect(row('egress-nat66')).toMatch(/ PASS +netns \(real\) +1\.2 s +web-arm reaches upstream/);
    expect(row('inbound-firewall')).toMatch(/ FAIL +netns \(real\) +5\.0 s +ssh blocked: expected connection refused \| timeout, saw/);
    expect(row('dhcpv6-pd')).toMatch(/ ERROR +netns \(real\) +30\.0 s +Command failed with exit code 1:/);
    expect(row('reboot-persist')).toMatch(/ PASS +netns \(emulated\) +0\.8 s +addresses and routes/);
    expect(row('ra-guard')).toMatch(/ SKIP \(expected\) +netns \(real\) +0\.0 s +needs the qemu tier/);
  });

  it('keeps every row on one line, without control characters', () => {
    expect(lines).toHaveLength(2 + fixtureReport.scenarios.length + 2);
    expect(table).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    const wide = renderVerdictTable(fixtureReport, { width: 400 }).split('\n');
    expect(wide.find((l) => l.startsWith('dhcpv6-pd'))).toMatch(/dhcpd -6 dhcpd: bad config & <subnet6> missing$/);
  });

  it('truncates to the width with an ellipsis', () => {
    for (const width of [120, 80, 60, 40]) {
      const t = renderVerdictTable(fixtureReport, { width }).trimEnd().split('\n');
      for (const line of t.slice(0, -1)) expect(Array.from(line).length).toBeLessThanOrEqual(width);
      expect(t.some((l) => l.endsWith('…') && Array.from(l).length === width)).toBe(true);
      expect(t.at(-1)).toBe('2 passed, 1 failed, 1 errored, 1 skipped as declared, 2 unexpected');
    }
    expect(lines.find((l) => l.startsWith('reboot-persist'))?.endsWith('…')).toBe(true);
    expect(lines.find((l) => l.startsWith('egress-nat66'))?.endsWith('…')).toBe(false);
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abcd', 4)).toBe('abcd');
  });

  it('uses ANSI colours only when asked', () => {
    expect(table).not.toMatch(ANSI);
    const colored = renderVerdictTable(fixtureReport, { color: true });
    expect(colored).toMatch(/\u001b\[32mPASS\u001b\[0m/);
    expect(colored).toMatch(/\u001b\[31mFAIL\u001b\[0m/);
    expect(colored.replace(ANSI, '')).toBe(table);
    const narrow = renderVerdictTable(fixtureReport, { color: true, width: 50 });
    expect(narrow.replace(ANSI, '')).toBe(renderVerdictTable(fixtureReport, { width: 50 }));
  });

  it('formats durations in seconds', () => {
    expect(formatDuration(1234)).toBe('1.2 s');
    expect(formatDuration(0)).toBe('0.0 s');
    expect(formatDuration(61_000)).toBe('61.0 s');
  });

  it('falls back to the error message, then the summary, for a failure without failing evidence', () => {
    const withError = renderVerdictTable(reportOf([scenario({ status: 'fail', error: 'it broke\nsecond line' })]));
    expect(withError).toMatch(/FAIL .* it broke second line$/m);
    const bare = renderVerdictTable(reportOf([scenario({ status: 'fail', summary: 'nothing to say' })]));
    expect(bare).toMatch(/FAIL .* nothing to say$/m);
  });
});

describe('renderJUnit', () => {
  const xml = renderJUnit(fixtureReport);

  it('is well-formed XML', () => {
    assertWellFormedXml(xml);
    assertWellFormedXml(renderJUnit(reportOf([])));
  });

  it('has the suite counts and one testcase per scenario', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true);
    expect(xml).toContain('<testsuites name="v6lab" tests="5" failures="1" errors="1" skipped="1" time="37.096">');
    expect(xml).toContain('<testsuite name="v6lab nat66 on netns" tests="5" failures="1" errors="1" skipped="1"');
    expect(xml.match(/<testcase /g)).toHaveLength(5);
    expect(xml.match(/<testsuite /g)).toHaveLength(1);
    expect(xml).toContain('<testcase classname="v6lab.netns.nat66" name="egress-nat66: Egress via NAT66 reaches upstream" time="1.234">');
    expect(xml.match(/<failure message="[^"]*" type="VerdictError">/g)).toHaveLength(1);
    expect(xml.match(/<error message="[^"]*" type="LabError">/g)).toHaveLength(1);
    expect(xml.match(/<skipped\/>/g)).toHaveLength(1);
    expect(xml.match(/<system-out>/g)).toHaveLength(5);
  });

  it('escapes special characters and has no raw & outside entities', () => {
    expect(xml).toContain('name="inbound-firewall: Inbound &lt;TCP/22&gt; is &quot;dropped&quot; &amp; logged"');
    expect(xml).toContain('seen: open &lt;port 22&gt; &amp; banner &quot;SSH-2.0-OpenSSH_9.6&quot; &apos;x&apos;');
    expect(xml).not.toMatch(/&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/);
    expect(escapeXmlText(`a&b<c>d"e'f`)).toBe('a&amp;b&lt;c&gt;d&quot;e&apos;f');
    expect(escapeXmlAttr('one\ntwo\tthree')).toBe('one&#10;two&#9;three');
  });

  it('strips characters illegal in XML 1.0', () => {
    // eslint-disable-next-line no-control-regex
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/);
    expect(xml).toContain('dhcpd: bad config &amp; &lt;subnet6&gt;  missing');
    expect(escapeXmlText('a\u0000b\u001bc\ud800d\ufffee\u{1F600}')).toBe('abcde\u{1F600}');
  });

  it('puts every evidence field in system-out', () => {
    const out = /<testcase [^>]*name="inbound-firewall[^"]*"[^>]*>[\s\S]*?<system-out>([\s\S]*?)<\/system-out>/.exec(xml)?.[1] ?? '';
    for (const field of ['check: ssh blocked', 'node: v6probe', 'command: nc -6', 'expected: connection refused | timeout', 'seen: open', 'ok: false', 'realism: real']) {
      expect(out).toContain(field);
    }
  });
});

describe('renderMarkdown', () => {
  const md = renderMarkdown(fixtureReport, { topologyMermaid: fixtureMermaid });
  const tableRows = md.split('\n').filter((l) => l.startsWith('| '));

  it('has a heading naming lab, design and tier', () => {
    expect(md.startsWith('# v6lab report: v6lab-test\n')).toBe(true);
    expect(md).toContain('- Design: `nat66`');
    expect(md).toContain('- Tier: `netns`');
  });

  it('has a verdict table whose cells escape pipes', () => {
    expect(tableRows[0]).toBe('| Scenario | Verdict | Tier | Duration | Evidence |');
    expect(tableRows).toHaveLength(1 + 1 + fixtureReport.scenarios.length);
    // Every row has exactly six unescaped pipes: five columns.
    for (const row of tableRows) expect(row.match(/(?<!\\)\|/g)).toHaveLength(6);
    expect(md).toContain('connection refused \\| timeout');
    expect(md).toContain('| reboot-persist | ✅ PASS | netns (emulated) | 0.8 s |');
    expect(md).toContain('**2 passed, 1 failed, 1 errored, 1 skipped as declared, 2 unexpected**');
  });

  it('escapes markdown and HTML in text', () => {
    expect(escapeMarkdownInline('a|b <c> & *d* _e_ `f`')).toBe('a\\|b &lt;c&gt; &amp; \\*d\\* \\_e\\_ \\`f\\`');
    expect(md).toContain('<strong>inbound-firewall</strong>: Inbound &lt;TCP/22&gt; is &quot;dropped&quot; &amp; logged');
    expect(md).not.toContain('<TCP/22>');
    expect(md).not.toMatch(/\u001b|\u0007/);
    expect(md).toContain('dhcpd: bad config & <subnet6>  missing\n```'); // inside a code block: verbatim
  });

  it('includes the mermaid diagram only when given', () => {
    expect(md).toContain('```mermaid\ngraph LR\n');
    expect(renderMarkdown(fixtureReport)).not.toContain('```mermaid');
  });

  it('has a details section per scenario listing every evidence item', () => {
    expect(md.match(/<details>/g)).toHaveLength(5);
    expect(md.match(/<\/details>/g)).toHaveLength(5);
    expect(md).toContain('  - command: `` nc -6 -z -w 2 [2001:db8::10] 22 && echo "open" || echo `closed` ``');
    expect(md).toContain('- ❌ **ssh blocked** on `v6probe` (real)');
    expect(md).toContain('- ✅ **reboot** on `web-arm` (emulated)');
    const items = fixtureReport.scenarios.reduce((n, s) => n + s.evidence.length, 0);
    expect(md.match(/^- [✅❌] \*\*/gmu)).toHaveLength(items);
    // A multi-line value with a ``` run inside gets a longer fence.
    expect(md).toContain('    ````text\n    no entries\n    line two of output\n    ```fenced```\n    ````');
  });
});

describe('renderJsonReport', () => {
  const json = renderJsonReport(fixtureReport);

  it('round-trips the report and ends in a newline', () => {
    expect(JSON.parse(json)).toEqual(fixtureReport);
    expect(json.endsWith('}\n')).toBe(true);
    expect(json).toContain('\n  "schema": "v6lab.report/1",\n');
  });

  it('keeps the model key order whatever order the object was built in', () => {
    const shuffled = JSON.parse(JSON.stringify(fixtureReport), function (this: unknown, _key, value: unknown) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
      return Object.fromEntries(Object.entries(value).reverse());
    }) as RunReport;
    expect(Object.keys(shuffled)[0]).toBe('totals');
    expect(renderJsonReport(shuffled)).toBe(json);
    expect(Object.keys(JSON.parse(json))).toEqual([
      'schema', 'lab', 'design', 'tier', 'startedAt', 'finishedAt', 'durationMs', 'scenarios', 'totals',
    ]);
    expect(Object.keys(JSON.parse(json).scenarios[1])).toEqual([
      'id', 'title', 'status', 'tier', 'realism', 'design', 'durationMs', 'summary', 'evidence', 'error',
    ]);
  });
});
