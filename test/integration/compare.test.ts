/**
 * `lab compare` of the three designs, two labs at a time: the matrix shows the expected
 * pattern (NAT66 egress-only; routed without proxy broken; routed with proxy egress with its
 * own GUA and reachable), which also proves two labs ran side by side without interfering.
 */
import { describe, expect, it } from 'vitest';
import type { CompareMatrix } from '../../lab/compare/matrix.ts';
import { LAB_CLI } from '../../lab/cli/entry.ts';
import { run } from '../../lab/exec.ts';
import { findLeaks, ownProcessTree, snapshotMachine } from '../../lab/host/leakCheck.ts';

const CLI = LAB_CLI;

describe.runIf(process.getuid?.() === 0)('lab compare', () => {
  it('runs v6egress, routed-subprefix and routed-subprefix-ndp side by side with the expected matrix', async () => {
    const before = await snapshotMachine();
    const result = await run(
      [process.execPath, CLI, 'compare', 'v6egress', 'routed-subprefix', 'routed-subprefix-ndp', '--parallel', '2', '--only', 'egress-nat66,inbound-reachability,host-64-touched,no-inbound', '--json'],
      { allowFailure: true, timeoutMs: 30 * 60_000 },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const m = JSON.parse(result.stdout) as CompareMatrix;
    const cell = (d: string, s: string) => m.cells[d]![s]!.status;
    expect(m.unexpected).toBe(0);
    expect([cell('v6egress', 'egress-nat66'), cell('v6egress', 'inbound-reachability'), cell('v6egress', 'host-64-touched'), cell('v6egress', 'no-inbound')]).toEqual(['pass', 'fail', 'pass', 'pass']);
    expect([cell('routed-subprefix', 'egress-nat66'), cell('routed-subprefix', 'inbound-reachability'), cell('routed-subprefix', 'host-64-touched')]).toEqual(['fail', 'fail', 'fail']);
    expect([cell('routed-subprefix-ndp', 'egress-nat66'), cell('routed-subprefix-ndp', 'inbound-reachability'), cell('routed-subprefix-ndp', 'host-64-touched'), cell('routed-subprefix-ndp', 'no-inbound')]).toEqual(['pass', 'pass', 'fail', 'fail']);
    expect(m.cells['v6egress']!['egress-nat66']!.summary).toContain('2a01:4f8:c012:43b::1 ');
    expect(m.cells['routed-subprefix-ndp']!['egress-nat66']!.summary).toContain('2a01:4f8:c012:43b:1::100');
    expect(m.cells['routed-subprefix']!['inbound-reachability']!.summary).toMatch(/web-arm (FAILED|INCOMPLETE)/);
    const leaks = findLeaks(before, await snapshotMachine(), { ignorePids: ownProcessTree(String(process.ppid)) }).filter(
      (l) => /cmp\d+x\d/.test(l.what),
    );
    expect(leaks).toEqual([]);
  });
});
