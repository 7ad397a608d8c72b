import { describe, expect, it } from 'vitest';
import { compareLabNames, defaultParallelism, webArmStartOf } from '../../lab/compare/compare.ts';
import { capabilitiesOf } from '../../lab/tiers/capabilities.ts';
import { buildMatrix, cellText, renderMatrixJson, renderMatrixMarkdown, renderMatrixTable, webArmStartText } from '../../lab/compare/matrix.ts';
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
  it('names the labs after --name when given', () => {
    expect(compareLabNames(['a', 'b'], 123456, 'sn2')).toEqual(['sn2x0', 'sn2x1']);
    expect(compareLabNames(['a', 'b'], 123456)).toEqual(['cmp23456x0', 'cmp23456x1']);
  });
  it('has no web-arm section or total on a run that had no guest', () => {
    expect(m.webArm).toBeUndefined();
    expect(m.totalMs).toBeUndefined();
    expect(renderMatrixTable(m)).not.toContain('web-arm');
    expect(renderMatrixMarkdown(m)).not.toContain('How each lab came up');
  });
});

describe('compare on the qemu tier', () => {
  const q = buildMatrix(
    [
      { design: 'v6egress', durationMs: 250_000, report: report('v6egress', [verdict('egress-nat66', 'pass')]), webArm: { start: 'boot', ms: 61_234, snapshotSaveMs: 3_100 } },
      { design: 'routed-subprefix', durationMs: 120_000, report: report('routed-subprefix', [verdict('egress-nat66', 'fail', 'fail')]), webArm: { start: 'restore', ms: 4_200 } },
      { design: 'routed-subprefix-ndp', durationMs: 180_000, report: report('routed-subprefix-ndp', [verdict('egress-nat66', 'pass')]), webArm: { start: 'boot', ms: 70_000, restoreFailed: 'QEMU exited' } },
    ],
    { totalMs: 555_000 },
  );

  it('runs as many labs at once as the tier runs side by side: one on qemu, two on netns (at most the cores)', () => {
    const qemu = capabilitiesOf({ ...defaultConfig(), lab: { ...defaultConfig().lab, tier: 'qemu' } }).labsSideBySide;
    const netns = capabilitiesOf(defaultConfig()).labsSideBySide;
    expect(defaultParallelism(qemu, 2)).toBe(1);
    expect(defaultParallelism(qemu, 16)).toBe(1);
    expect(defaultParallelism(netns, 2)).toBe(2);
    expect(defaultParallelism(netns, 1)).toBe(1);
    expect(defaultParallelism(undefined, 8)).toBe(2);
  });

  it('reads how web-arm came up from lab up --json', () => {
    const up = (guest: unknown) => JSON.stringify({ lab: 'x', alreadyUp: false, durationMs: 1, state: { guest } });
    expect(webArmStartOf(up({ start: 'boot', bootToReadyMs: 61_000, snapshotSaveMs: 3_000 }))).toEqual({ start: 'boot', ms: 61_000, snapshotSaveMs: 3_000 });
    expect(webArmStartOf(up({ start: 'restore', restoreMs: 4_000 }))).toEqual({ start: 'restore', ms: 4_000 });
    expect(webArmStartOf(up({ bootToReadyMs: 50_000 }))).toEqual({ start: 'boot', ms: 50_000 });
    expect(webArmStartOf(up(undefined))).toBeUndefined();
    expect(webArmStartOf('not json')).toBeUndefined();
  });

  it('records per design how web-arm came up and the total', () => {
    expect(q.webArm).toEqual({
      v6egress: { start: 'boot', ms: 61_234, snapshotSaveMs: 3_100 },
      'routed-subprefix': { start: 'restore', ms: 4_200 },
      'routed-subprefix-ndp': { start: 'boot', ms: 70_000, restoreFailed: 'QEMU exited' },
    });
    expect(q.totalMs).toBe(555_000);
    expect(JSON.parse(renderMatrixJson(q))).toMatchObject({ webArm: q.webArm, totalMs: 555_000 });
    expect(webArmStartText(q.webArm!['v6egress']!)).toBe('cold boot 61.2 s, snapshot saved (paused 3.1 s)');
    expect(webArmStartText(q.webArm!['routed-subprefix']!)).toBe('snapshot restore 4.2 s');
    expect(webArmStartText(q.webArm!['routed-subprefix-ndp']!)).toBe('cold boot 70.0 s, after a failed restore');
  });

  it('shows it under the table and in the Markdown', () => {
    const table = renderMatrixTable(q);
    expect(table.split('\n')[0]).toMatch(/^scenario\s+v6egress\s+routed-subprefix\s+routed-subprefix-ndp$/);
    expect(table).toContain('web-arm per design:');
    expect(table).toContain('  routed-subprefix      snapshot restore 4.2 s; whole run 120.0 s');
    expect(table).toContain('compared in 555.0 s');
    const md = renderMatrixMarkdown(q);
    expect(md).toContain('| Design | web-arm | Whole run |');
    expect(md).toContain('| v6egress | cold boot 61.2 s, snapshot saved (paused 3.1 s) | 250.0 s |');
    expect(md).toContain('| routed-subprefix | snapshot restore 4.2 s | 120.0 s |');
    expect(md).toContain('Compared in 555.0 s.');
    expect(md).toContain('**routed-subprefix** (120.0 s; web-arm: snapshot restore 4.2 s)');
  });
});
