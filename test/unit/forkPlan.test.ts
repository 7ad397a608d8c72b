import { describe, expect, it } from 'vitest';
import { defaultWebArms, forkLabName, forkSets, planForks } from '../../lab/scenario/forkPlan.ts';
import { defaultConfig } from '../../lab/topology/config.ts';
import { applyOverrides, parseOverride } from '../../lab/topology/overrides.ts';

// The v6egress suite on qemu as one run measured it (s): the two real reboots are the longest.
const SUITE: Record<string, number> = {
  'egress-nat66': 20, 'egress-v4': 10, 'isolation-default': 20, 'host-unchanged': 5, 'idempotent-redeploy': 34,
  'idempotent-reboot': 157, 'no-inbound': 15, 'container-dns': 59, 'router-outage': 30, 'firewall-reload': 116,
  drift: 182, 'subnet-collision': 80, 'ra-control': 15, 'mail-path': 40, 'docker-coexistence': 356,
};
const ids = Object.keys(SUITE);
const weight = (id: string) => (SUITE[id] ?? 0) * 1000;
const realReboot = (id: string) => id === 'idempotent-reboot' || id === 'docker-coexistence';

describe('planForks: who runs which scenario', () => {
  it('one web-arm: everything on the lab itself, in file order', () => {
    const shares = planForks({ ids, webArms: 1, lab: 'main', weight, realReboot, forkCost: 90_000 });
    expect(shares).toEqual([{ fork: 0, lab: 'main', ids, weight: ids.reduce((n, id) => n + weight(id), 0) }]);
  });

  it('every scenario runs exactly once, whatever the number of web-arms, each share in file order', () => {
    for (const webArms of [1, 2, 3, 4, 8]) {
      const shares = planForks({ ids, webArms, lab: 'main', weight, realReboot, forkCost: 90_000 });
      expect(shares.flatMap((s) => s.ids).sort()).toEqual([...ids].sort());
      for (const s of shares) expect(s.ids).toEqual(ids.filter((id) => s.ids.includes(id)));
      expect(shares.map((s) => s.fork)).toEqual(shares.map((_, i) => i));
    }
  });

  it('three web-arms: each real reboot on a fork of its own, the rest on the lab', () => {
    const shares = planForks({ ids, webArms: 3, lab: 'main', weight, realReboot, forkCost: 90_000 });
    expect(shares.map((s) => s.lab)).toEqual(['main', 'mainf1', 'mainf2']);
    expect(shares[1]!.ids).toContain('docker-coexistence');
    expect(shares[1]!.ids).not.toContain('idempotent-reboot');
    expect(shares[2]!.ids).toContain('idempotent-reboot');
    // No share is longer than the longest story plus what balancing puts beside it.
    const total = ids.reduce((n, id) => n + weight(id), 0);
    expect(Math.max(...shares.map((s) => s.weight))).toBeLessThan(total / 2);
  });

  it('two web-arms: balanced longest first, neither share more than its fair half plus one story', () => {
    const shares = planForks({ ids, webArms: 2, lab: 'main', weight, realReboot, forkCost: 90_000 });
    expect(shares).toHaveLength(2);
    const total = ids.reduce((n, id) => n + weight(id), 0);
    for (const s of shares) expect(s.weight).toBeLessThanOrEqual(total / 2 + 182_000);
  });

  it('a fork with less work than bringing it up is not made', () => {
    const shares = planForks({ ids: ['egress-nat66', 'no-inbound'], webArms: 2, lab: 'main', weight, realReboot, forkCost: 90_000 });
    expect(shares).toEqual([{ fork: 0, lab: 'main', ids: ['egress-nat66', 'no-inbound'], weight: 35_000 }]);
  });

  it('scenarios that will be skipped (weight 0) never get a fork', () => {
    const shares = planForks({ ids: ['docker-coexistence', 'egress-nat66'], webArms: 2, lab: 'main', weight: (id) => (id === 'docker-coexistence' ? 0 : 20_000), realReboot, forkCost: 90_000 });
    expect(shares).toHaveLength(1);
  });
});

describe('fork names and configuration', () => {
  it('fork lab names stay within 16 characters', () => {
    expect(forkLabName('main', 1)).toBe('mainf1');
    expect(forkLabName('abcdefghijklmnop', 2)).toBe('abcdefghijklmnf2');
    expect(forkLabName('abcdefghijklmnop', 12)).toHaveLength(16);
  });

  it('a fork gets every setting that differs from the defaults, but the lab name and state directory', () => {
    const config = applyOverrides(defaultConfig(), [
      'lab.name=ci1', 'lab.tier=qemu', 'lab.stateDir=/tmp/x', 'design.name=routed-subprefix-ndp', 'topology.ipv4=false', 'webArm.firewall.allowedTcpPorts=[22,25]',
    ].map(parseOverride));
    const sets = forkSets(config);
    expect(sets).toContain('lab.tier=qemu');
    expect(sets).toContain('design.name=routed-subprefix-ndp');
    expect(sets).toContain('topology.ipv4=false');
    expect(sets).toContain('webArm.firewall.allowedTcpPorts=[22,25]');
    expect(sets.some((s) => s.startsWith('lab.name=') || s.startsWith('lab.stateDir='))).toBe(false);
    // Read back, the sets give the same configuration.
    const back = applyOverrides(defaultConfig(), ['lab.name=ci1', 'lab.stateDir=/tmp/x', ...sets].map(parseOverride));
    expect(back).toEqual(config);
  });

  it('a string that reads as JSON is quoted, so it comes back a string', () => {
    const config = applyOverrides(defaultConfig(), [parseOverride('webArm.hostname="123"')]);
    expect(config.webArm.hostname).toBe('123');
    const back = applyOverrides(defaultConfig(), forkSets(config).map(parseOverride));
    expect(back.webArm.hostname).toBe('123');
  });

  it('default web-arms: one per core as free memory holds them, at least one', () => {
    expect(defaultWebArms(2, 20_000, 1024)).toBe(2);
    expect(defaultWebArms(8, 3_000, 1024)).toBe(1);
    expect(defaultWebArms(2, 500, 1024)).toBe(1);
  });
});

describe('a report shared among forks says which web-arm ran what', () => {
  it('the table names the fork beside the tier and lists the forks', async () => {
    const { renderVerdictTable } = await import('../../lab/report/table.ts');
    const { renderMarkdown } = await import('../../lab/report/markdown.ts');
    const { runReportSchema } = await import('../../lab/report/reportSchema.ts');
    const verdict = (id: string, ranOn?: string) => ({ id, title: id, status: 'pass' as const, tier: 'qemu' as const, realism: 'real' as const, design: 'v6egress', durationMs: 1000, summary: 'ok', evidence: [], ...(ranOn ? { ranOn } : {}) });
    const report = {
      schema: 'v6lab.report/1' as const, lab: 'q1', design: 'v6egress', tier: 'qemu' as const, startedAt: 'a', finishedAt: 'b', durationMs: 2000,
      scenarios: [verdict('egress-nat66'), verdict('idempotent-reboot', 'q1f1')],
      totals: { passed: 2, failed: 0, errored: 0, skipped: 0 },
      forks: [{ fork: 0, lab: 'q1', scenarios: ['egress-nat66'] }, { fork: 1, lab: 'q1f1', scenarios: ['idempotent-reboot'], webArm: 'restore 6.0 s', phasesMs: { up: 60_000, test: 200_000, down: 5000 } }],
    };
    expect(runReportSchema.parse(report)).toEqual(report);
    const table = renderVerdictTable(report, { width: 200 });
    expect(table).toMatch(/idempotent-reboot\s+PASS\s+qemu \(real\) on q1f1/);
    expect(table).toContain('q1f1 (fork 1, web-arm restore 6.0 s; up 60.0 s, test 200.0 s, down 5.0 s): idempotent-reboot');
    expect(table).toContain("q1 (the lab's own web-arm): egress-nat66");
    expect(renderMarkdown(report)).toContain('qemu (real) on q1f1');
  });
});
