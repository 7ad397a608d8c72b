/**
 * `lab compare --merge`: cell files from many machines make the same matrix a single-machine
 * compare makes; a missing or errored cell is shown as such (exit 2), never as a pass; bad input
 * (another schema version, two files for one cell, a cell the plan lacks) fails naming the fix.
 * Pure: cell files are built in memory.
 */
import { describe, expect, it } from 'vitest';
import { CELL_SCHEMA, cellFileSchema, parseComparisonFile, type CellFile, type ComparisonFile } from '../../lab/compare/cellFile.ts';
import { buildMatrix, exitCodeOfMatrix, gridText, renderMatrixMarkdown, renderMatrixTable } from '../../lab/compare/matrix.ts';
import { renderMatrixHtml } from '../../lab/compare/matrixHtml.ts';
import { mergeCells } from '../../lab/compare/merge.ts';
import { cellFromId, planCells } from '../../lab/compare/plan.ts';
import { ConfigError, UsageError } from '../../lab/errors.ts';
import { totalsOf, type RunReport, type ScenarioVerdict } from '../../lab/report/model.ts';

function verdict(id: string, status: ScenarioVerdict['status'], expected?: ScenarioVerdict['status']): ScenarioVerdict {
  return { id, title: id, status, tier: 'netns', realism: 'real', design: 'd', durationMs: 10, summary: `${id} ${status}`, evidence: [], ...(expected ? { expected } : {}) };
}

function report(design: string, scenarios: ScenarioVerdict[]): RunReport {
  return { schema: 'v6lab.report/1', lab: 'x', design, tier: 'netns', startedAt: '2026-12-06T00:00:00.000Z', finishedAt: '2026-12-06T00:00:10.000Z', durationMs: 10_000, scenarios, totals: totalsOf(scenarios) };
}

const MACHINE = { hostname: 'runner', arch: 'x86_64', cores: 4, memoryMiB: 16_384, kernel: '6.8.0', os: 'Ubuntu 24.04.1 LTS', node: 'v24.22.3', devKvm: true };

function cellFile(id: string, r: RunReport | { error: string }): CellFile {
  return cellFileSchema.parse({
    schema: CELL_SCHEMA,
    cell: cellFromId(id),
    ...('error' in r ? { outcome: 'error', error: r.error } : { outcome: 'ran', report: r }),
    declared: {},
    times: { startedAt: '2026-12-06T00:00:00.000Z', finishedAt: '2026-12-06T00:00:12.000Z', durationMs: 12_000 },
    machine: MACHINE,
    files: { pcaps: [] },
  });
}

const asInput = (cell: CellFile, file = `cells/${cell.cell.id}/cell.json`): ComparisonFile => ({ kind: 'cell', file, cell });

const V6EGRESS = report('v6egress', [verdict('egress-nat66', 'pass'), verdict('inbound-reachability', 'fail', 'fail')]);
const ROUTED = report('routed-subprefix', [verdict('egress-nat66', 'fail', 'fail'), verdict('inbound-reachability', 'pass', 'fail')]);
const plan = planCells({ entries: ['v6egress', 'routed-subprefix'], arches: ['x86_64'] });

describe('lab compare --merge', () => {
  it('makes the matrix a single-machine compare makes: same columns, verdicts and flags', () => {
    const merged = mergeCells([
      { kind: 'plan', file: 'plan/plan.json', plan },
      asInput(cellFile('routed-subprefix--netns-debian-x86_64', ROUTED)),
      asInput(cellFile('v6egress--netns-debian-x86_64', V6EGRESS)),
    ]);
    const single = buildMatrix([
      { design: 'v6egress', report: V6EGRESS, durationMs: 1 },
      { design: 'routed-subprefix', report: ROUTED, durationMs: 1 },
    ]);
    expect(merged.matrix.designs).toEqual(single.designs);
    expect(merged.matrix.scenarios).toEqual(single.scenarios);
    expect(merged.matrix.cells).toEqual(single.cells);
    expect(merged.matrix.unexpected).toBe(1);
    expect(merged.matrix.tier).toBe('netns');
    expect(exitCodeOfMatrix(merged.matrix)).toBe(1);
    expect(exitCodeOfMatrix(single)).toBe(1);
    expect(merged.matrix.columns!['v6egress']).toMatchObject({ cell: 'v6egress--netns-debian-x86_64', outcome: 'ran', machine: 'x86_64, 4 cores, 16.0 GiB, Ubuntu 24.04.1 LTS' });
    expect(renderMatrixTable(merged.matrix)).toContain('PASS ⚠ expected FAIL');
    expect(merged.notes).toEqual([]);
  });

  it('puts cells of other architectures and guests side by side, named by what differs', () => {
    const nixos = planCells({ entries: ['v6egress'], tiers: ['qemu'], guests: ['nixos'], arches: ['aarch64'], allowFailure: true });
    const arm = planCells({ entries: ['v6egress'], arches: ['x86_64', 'aarch64'] });
    const m = mergeCells([
      { kind: 'plan', file: 'plan/plan.json', plan: arm },
      { kind: 'plan', file: 'plan-nixos/plan.json', plan: nixos },
      asInput(cellFile('v6egress--netns-debian-x86_64', V6EGRESS)),
      asInput(cellFile('v6egress--netns-debian-aarch64', V6EGRESS)),
      asInput(cellFile('v6egress--qemu-nixos-aarch64', { error: 'lab up for v6egress failed (exit 2): a NixOS guest cannot be built' })),
    ]).matrix;
    expect(m.designs).toEqual(['v6egress (netns, debian, x86_64)', 'v6egress (netns, debian, aarch64)', 'v6egress (qemu, nixos, aarch64)']);
    expect(m.tier).toBe('netns + qemu');
    // The NixOS column could not run: shown so in every row, allowed to fail, so not counted.
    expect(gridText(m, 'v6egress (qemu, nixos, aarch64)', 'egress-nat66')).toBe('NOT RUN ⚠');
    expect(m.columns!['v6egress (qemu, nixos, aarch64)']).toMatchObject({ outcome: 'error', allowFailure: true });
    expect(exitCodeOfMatrix(m)).toBe(0);
    expect(renderMatrixTable(m)).toContain('allowed to fail (shown, not counted in the exit code): v6egress (qemu, nixos, aarch64)');
  });

  it('shows a planned cell without a file as MISSING and one that could not run as NOT RUN, never a pass (exit 2)', () => {
    const missing = mergeCells([{ kind: 'plan', file: 'plan.json', plan }, asInput(cellFile('v6egress--netns-debian-x86_64', V6EGRESS))]).matrix;
    expect(missing.designs).toEqual(['v6egress', 'routed-subprefix']);
    expect(missing.columns!['routed-subprefix']!.outcome).toBe('missing');
    for (const s of missing.scenarios) expect(gridText(missing, 'routed-subprefix', s)).toBe('MISSING ⚠');
    expect(exitCodeOfMatrix(missing)).toBe(2);
    const table = renderMatrixTable(missing);
    expect(table).toContain('every cell that ran is as its design declares');
    expect(table).toMatch(/routed-subprefix: MISSING \(cell routed-subprefix--netns-debian-x86_64\): no cell file came back/);
    expect(renderMatrixMarkdown(missing)).toContain('| egress-nat66 | PASS | MISSING ⚠ |');
    expect(renderMatrixHtml(missing)).toContain('<td class="cell error unexpected"');
    const errored = mergeCells([
      asInput(cellFile('v6egress--netns-debian-x86_64', V6EGRESS)),
      asInput(cellFile('routed-subprefix--netns-debian-x86_64', { error: 'lab up for routed-subprefix failed (exit 70)' })),
    ]);
    expect(errored.notes[0]).toMatch(/no plan.json among the inputs/);
    expect(gridText(errored.matrix, 'routed-subprefix', 'egress-nat66')).toBe('NOT RUN ⚠');
    expect(exitCodeOfMatrix(errored.matrix)).toBe(2);
    // Every cell as declared: 0.
    const ok = mergeCells([asInput(cellFile('v6egress--netns-debian-x86_64', V6EGRESS))]).matrix;
    expect(exitCodeOfMatrix(ok)).toBe(0);
  });

  it('refuses two files for one cell, a cell the plan does not have, and nothing at all', () => {
    const one = cellFile('v6egress--netns-debian-x86_64', V6EGRESS);
    expect(() => mergeCells([asInput(one, 'a/cell.json'), asInput(one, 'b/cell.json')])).toThrow(/cell v6egress--netns-debian-x86_64 is in two files, a\/cell.json and b\/cell.json. Fix: keep one/);
    expect(() => mergeCells([{ kind: 'plan', file: 'plan.json', plan }, asInput(cellFile('v6egress--netns-debian-aarch64', V6EGRESS))])).toThrow(/not in the plan \(plan.json\). Fix:/);
    expect(() => mergeCells([])).toThrow(UsageError);
  });
});

describe('the cell file (v6lab.compare-cell/1) and the plan file, read back', () => {
  const text = JSON.stringify(cellFile('v6egress--netns-debian-x86_64', V6EGRESS));

  it('reads a cell file and a plan, told apart by content', () => {
    expect(parseComparisonFile('c.json', text)).toMatchObject({ kind: 'cell', cell: { cell: { id: 'v6egress--netns-debian-x86_64' } } });
    expect(parseComparisonFile('plan.json', JSON.stringify(plan))).toMatchObject({ kind: 'plan', plan });
  });

  it('refuses another schema version, a broken file and anything else, naming the file and the fix', () => {
    const refused = (body: string, message: RegExp) => {
      let error: unknown;
      try {
        parseComparisonFile('cells/x/cell.json', body);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/^cells\/x\/cell.json/);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/Fix:/);
    };
    refused(text.replace(CELL_SCHEMA, 'v6lab.compare-cell/2'), /schema: is another version of the cell file than this v6lab reads \(v6lab.compare-cell\/1\)/);
    refused('{ not json', /is not JSON/);
    refused(JSON.stringify({ schema: 'v6lab.report/1' }), /neither a cell file/);
    refused(JSON.stringify({ ...JSON.parse(text), outcome: 'maybe' }), /outcome/);
    refused(JSON.stringify({ ...JSON.parse(text), report: undefined }), /a cell that ran has a report/);
    refused(JSON.stringify({ include: [{ id: 'x' }] }), /include\.0\.label/);
  });
});
