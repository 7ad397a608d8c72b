/**
 * The three steps of a comparison across machines through the CLI (no lab, no root): `--plan`
 * prints the matrix object; bad `--plan`, `--cell` and `--merge` input (an unknown design, a cell
 * id not in the plan, a cell file of another schema version, two cells with one id) exits 2 with
 * the fix named, and writes nothing.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CELL_SCHEMA, cellFileSchema } from '../../lab/compare/cellFile.ts';
import { cellFromId } from '../../lab/compare/plan.ts';
import { LAB_CLI } from '../../lab/cli/entry.ts';
import { run } from '../../lab/exec.ts';

const CLI = LAB_CLI;
const dir = mkdtempSync(join(tmpdir(), 'v6lab-compare-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lab = (...args: string[]) => run([process.execPath, CLI, 'compare', ...args], { allowFailure: true, timeoutMs: 60_000, cwd: dir });

function writeCell(path: string, schema = CELL_SCHEMA): void {
  mkdirSync(path, { recursive: true });
  const file = cellFileSchema.parse({
    schema: CELL_SCHEMA,
    cell: cellFromId('v6egress--netns-debian-x86_64'),
    outcome: 'error',
    error: 'lab up failed',
    declared: {},
    times: { startedAt: '', finishedAt: '', durationMs: 0 },
    machine: { hostname: 'h', arch: 'x86_64', cores: 2, memoryMiB: 1024, kernel: 'k', os: 'o', node: 'v24', devKvm: false },
    files: { pcaps: [] },
  });
  writeFileSync(join(path, 'cell.json'), JSON.stringify({ ...file, schema }));
}

describe.concurrent('lab compare --plan / --cell / --merge through the CLI', { timeout: 60_000 }, () => {
  it('--plan prints one line of JSON: { include: [cells] } for fromJSON', async () => {
    const r = await lab('--plan', 'v6egress', 'routed-subprefix', '--arch', 'x86_64,aarch64');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const plan = JSON.parse(r.stdout) as { include: Array<{ id: string; runner: string }> };
    expect(plan.include.map((c) => `${c.id} ${c.runner}`)).toEqual([
      'v6egress--netns-debian-x86_64 ubuntu-24.04',
      'v6egress--netns-debian-aarch64 ubuntu-24.04-arm',
      'routed-subprefix--netns-debian-x86_64 ubuntu-24.04',
      'routed-subprefix--netns-debian-aarch64 ubuntu-24.04-arm',
    ]);
  });

  const refused = async (args: string[], message: RegExp) => {
    const r = await lab(...args);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/Fix:/);
    expect(r.stdout).toBe('');
  };

  it('an unknown design in a plan', async () => {
    await refused(['--plan', 'v6egress', 'nope'], /design.name: is not a known design \(got "nope"\)/);
  });

  it('a cell id not in the plan (and not a cell id at all), writing no --out', async () => {
    await refused(['--cell', 'v6egress--qemu-debian-x86_64', 'v6egress', '--out', 'out1'], /is not a cell of this plan. Its cells: v6egress--netns-debian-x86_64/);
    await refused(['--cell', 'v6egress-netns', '--out', 'out2'], /is not a cell id/);
    expect(existsSync(join(dir, 'out1'))).toBe(false);
    expect(existsSync(join(dir, 'out2'))).toBe(false);
  });

  it('a cell file of another schema version, and two cells with the same id, writing no matrix', async () => {
    writeCell(join(dir, 'v2', 'a'), 'v6lab.compare-cell/2');
    await refused(['--merge', 'v2', '--out', 'm1'], /v2\/a\/cell.json: schema: is another version of the cell file than this v6lab reads \(v6lab.compare-cell\/1\)/);
    writeCell(join(dir, 'twice', 'a'));
    cpSync(join(dir, 'twice', 'a'), join(dir, 'twice', 'b'), { recursive: true });
    await refused(['--merge', 'twice', '--out', 'm2'], /cell v6egress--netns-debian-x86_64 is in two files, twice\/a\/cell.json and twice\/b\/cell.json/);
    expect(existsSync(join(dir, 'm1'))).toBe(false);
    expect(existsSync(join(dir, 'm2'))).toBe(false);
    expect(existsSync(join(dir, '.lab'))).toBe(false);
  });

  it('flags of another step are refused, not ignored', async () => {
    await refused(['--plan', 'v6egress', '--out', 'x'], /--out belongs to another step/);
    await refused(['--merge', 'x', '--plan'], /different steps/);
  });

  it('a merge of a cell that could not run exits 2 and shows it as NOT RUN', async () => {
    writeCell(join(dir, 'broken', 'a'));
    const r = await lab('--merge', 'broken', '--out', 'm3');
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stdout).toMatch(/v6egress: NOT RUN \(cell v6egress--netns-debian-x86_64\): lab up failed/);
    expect(readdirSync(join(dir, 'm3')).sort()).toEqual(['matrix.html', 'matrix.json', 'matrix.md']);
  });
});
