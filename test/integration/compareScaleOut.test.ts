/**
 * The comparison spread over machines, on this one (issue 20 item 6): plan three netns designs,
 * run the three cells as separate processes, each with a lab name, a state directory and a
 * runtime directory of its own (as separate machines would have), merge their cell files, and
 * compare the merged matrix cell by cell with a single `lab compare` of the same designs and
 * scenarios: the same verdicts, the same declarations, the same flags, the same exit code.
 * A few quick scenarios keep it short. Needs root (real namespaces, podman).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cellFileSchema } from '../../lab/compare/cellFile.ts';
import type { CompareMatrix } from '../../lab/compare/matrix.ts';
import type { CellPlan } from '../../lab/compare/plan.ts';
import { run } from '../../lab/exec.ts';
import { findLeaks, ownProcessTree, snapshotMachine } from '../../lab/host/leakCheck.ts';
import { CLI } from './labCli.ts';

const DESIGNS = ['v6egress', 'routed-subprefix', 'routed-subprefix-ndp'];
const ONLY = 'egress-nat66,egress-v4,no-inbound,host-64-touched';
const work = mkdtempSync(join(tmpdir(), 'v6lab-scaleout-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const lab = (args: string[], env: Record<string, string> = {}) => run([process.execPath, CLI, ...args], { allowFailure: true, timeoutMs: 15 * 60_000, env: { CI: '1', ...env } });

/** What a matrix says per column and scenario: verdict, declaration, flag. */
function grid(m: CompareMatrix): Record<string, string> {
  return Object.fromEntries(m.designs.flatMap((d) => m.scenarios.map((s) => {
    const c = m.cells[d]?.[s];
    return [`${d} × ${s}`, c ? `${c.status} (declared ${c.expected})${c.unexpected ? ' ⚠' : ''}` : '—'];
  })));
}

describe.runIf(process.getuid?.() === 0)('lab compare across machines, on one machine', () => {
  it('plan → three cells as separate processes → merge equals a single lab compare, cell by cell', async () => {
    const before = await snapshotMachine();
    const planned = await lab(['compare', '--plan', ...DESIGNS]);
    expect(planned.exitCode, planned.stderr).toBe(0);
    const plan = JSON.parse(planned.stdout) as CellPlan;
    expect(plan.include.map((c) => c.design)).toEqual(DESIGNS);
    writeFileSync(join(work, 'plan.json'), planned.stdout);

    // Three "machines": a lab name, a state directory and a runtime directory each; side by side.
    const started = performance.now();
    const cells = await Promise.all(
      plan.include.map((cell, i) =>
        lab(['compare', '--cell', cell.id, '--out', join(work, 'cells', cell.id), '--only', ONLY, '--name', `i20c${i}`, '--set', `lab.stateDir=${join(work, 'machine', String(i), 'state')}`], {
          V6LAB_RUNTIME_DIR: join(work, 'machine', String(i), 'run'),
        }),
      ),
    );
    const cellsMs = performance.now() - started;
    for (const [i, r] of cells.entries()) expect(r.exitCode, `${plan.include[i]!.id}: ${r.stderr.slice(-2000)}`).toBe(0);
    for (const cell of plan.include) {
      const dir = join(work, 'cells', cell.id);
      const file = cellFileSchema.parse(JSON.parse(readFileSync(join(dir, 'cell.json'), 'utf8')));
      expect(file.outcome).toBe('ran');
      expect(file.machine.arch).toBe(cell.arch);
      expect(existsSync(join(dir, 'junit.xml'))).toBe(true);
      expect(file.files.pcaps.length, `${cell.id}: the egress capture`).toBeGreaterThan(0);
      for (const pcap of file.files.pcaps) expect(existsSync(join(dir, pcap))).toBe(true);
    }

    const merged = await lab(['compare', '--merge', join(work, 'plan.json'), join(work, 'cells'), '--out', join(work, 'merged'), '--adr', '11', 'Container IPv6 egress on web-arm', '--json']);
    const single = await lab(['compare', ...DESIGNS, '--only', ONLY, '--name', 'i20s', '--json']);
    expect(single.exitCode, single.stderr.slice(-2000)).toBe(0);
    expect(merged.exitCode, merged.stderr).toBe(single.exitCode);
    const m = JSON.parse(merged.stdout) as CompareMatrix;
    const s = JSON.parse(single.stdout) as CompareMatrix;
    expect(m.designs).toEqual(s.designs);
    expect([...m.scenarios].sort()).toEqual([...s.scenarios].sort());
    expect(grid(m)).toEqual(grid(s));
    expect(m.unexpected).toBe(s.unexpected);
    expect(Object.fromEntries(Object.entries(m.columns!).map(([d, c]) => [d, c.cell]))).toEqual(Object.fromEntries(Object.entries(s.columns!).map(([d, c]) => [d, c.cell])));
    for (const f of ['matrix.md', 'matrix.json', 'matrix.html', 'v6egress.report.html']) expect(existsSync(join(work, 'merged', f)), f).toBe(true);
    // The ADR draft from the merged matrix: its MADR sections, an option per design, the evidence linked.
    const adr = readFileSync(join(work, 'merged', 'docs', 'adr', '0011-container-ipv6-egress-on-web-arm.md'), 'utf8');
    const headings = adr.split('\n').filter((l) => /^## /.test(l));
    expect(headings).toEqual(['## Context and Problem Statement', '## Decision Drivers', '## Considered Options', '## Decision Outcome', '## Pros and Cons of the Options', '## Links']);
    for (const design of DESIGNS) expect(adr).toContain(`### \`${design}\``);
    for (const scenario of ONLY.split(',')) expect(adr).toContain(`(\`${scenario}\`)`);
    expect(adr).toContain('Chosen option: **to be chosen**');
    expect(adr).toMatch(/\* Good, because .*\(`egress-nat66`\) passes/);
    expect(adr).toContain('[../../v6egress.report.html](../../v6egress.report.html)');
    process.stderr.write(`scale-out: three cells side by side in ${(cellsMs / 1000).toFixed(1)} s; single compare exit ${single.exitCode}, merge exit ${merged.exitCode}, ${Object.keys(grid(m)).length} cells equal\n`);

    const leaks = findLeaks(before, await snapshotMachine(), { ignorePids: ownProcessTree(String(process.ppid)) }).filter((l) => /i20(c\d|sx\d)/.test(l.what));
    expect(leaks).toEqual([]);
  });
});
