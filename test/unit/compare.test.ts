import { describe, expect, it } from 'vitest';
import { compareLabNames } from '../../lab/compare/compare.ts';
import { buildMatrix, cellText, renderMatrixMarkdown, renderMatrixTable } from '../../lab/compare/matrix.ts';
import type { RunReport, ScenarioVerdict } from '../../lab/report/model.ts';
import { planLab } from '../../lab/topology/plan.ts';
import { defaultConfig } from '../../lab/topology/config.ts';
import { validateConfig } from '../../lab/topology/validate.ts';

function verdict(id: string, status: ScenarioVerdict['status'], expected?: ScenarioVerdict['status']): ScenarioVerdict {
  return { id, title: id, status, tier: 'netns', realism: 'real', design: 'd', durationMs: 10, summary: `${id} ${status}`, evidence: [], ...(expected ? { expected } : {}) };
}

function report(design: string, scenarios: ScenarioVerdict[]): RunReport {
  return {
    schema: 'v6lab.report/1', lab: 'x', design, tier: 'netns', startedAt: '', finishedAt: '', durationMs: 1,
    scenarios, totals: { passed: 0, failed: 0, errored: 0, skipped: 0 },
  };
}

describe('compare matrix', () => {
  const m = buildMatrix([
    { design: 'v6egress', durationMs: 1000, report: report('v6egress', [verdict('egress-nat66', 'pass'), verdict('inbound-reachability', 'fail', 'fail')]) },
    { design: 'routed-subprefix', durationMs: 2000, report: report('routed-subprefix', [verdict('egress-nat66', 'fail', 'fail'), verdict('inbound-reachability', 'pass', 'fail'), verdict('drift', 'skipped', 'skipped')]) },
  ]);

  it('lists every scenario once, in order of first appearance', () => {
    expect(m.scenarios).toEqual(['egress-nat66', 'inbound-reachability', 'drift']);
  });
  it('flags only cells that differ from what their design declares', () => {
    expect(m.unexpected).toBe(1);
    expect(m.cells['routed-subprefix']!['inbound-reachability']!.unexpected).toBe(true);
    expect(m.cells['v6egress']!['inbound-reachability']!.unexpected).toBe(false);
    expect(cellText(m.cells['routed-subprefix']!['inbound-reachability'])).toBe('PASS ⚠ expected FAIL');
    expect(cellText(m.cells['routed-subprefix']!['egress-nat66'])).toBe('FAIL (expected)');
    expect(cellText(m.cells['v6egress']!['drift'])).toBe('—');
  });
  it('renders a table and ADR-ready Markdown', () => {
    const table = renderMatrixTable(m);
    expect(table.split('\n')[0]).toMatch(/^scenario\s+v6egress\s+routed-subprefix$/);
    expect(table).toContain('1 cell(s) differ');
    const md = renderMatrixMarkdown(m);
    expect(md).toContain('| Scenario | v6egress | routed-subprefix |');
    expect(md).toContain('| inbound-reachability | FAIL (expected) | PASS ⚠ expected FAIL |');
    expect(md).toContain('**routed-subprefix** (2.0 s)');
  });
  it('gives each design a lab of its own whose marks never overlap', () => {
    const names = compareLabNames(['v6egress', 'routed-subprefix', 'routed-subprefix-ndp'], 123456);
    expect(new Set(names).size).toBe(3);
    const plans = names.map((name) => planLab(validateConfig({ ...defaultConfig(), lab: { ...defaultConfig().lab, name } })));
    for (const a of plans) for (const b of plans) {
      if (a === b) continue;
      expect(b.webArm.netnsName.startsWith(a.netnsPrefix)).toBe(false);
      expect(a.linkPrefix).not.toBe(b.linkPrefix);
      expect(a.runtimeDir).not.toBe(b.runtimeDir);
    }
  });
});
