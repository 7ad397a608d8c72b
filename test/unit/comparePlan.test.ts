/**
 * `lab compare --plan`: the cells of a comparison with stable ids and runner labels, as the
 * `{ include }` object a workflow's strategy.matrix takes; bad plans fail naming the fix. Pure.
 */
import { describe, expect, it } from 'vitest';
import { cellFromId, cellId, findCell, planCells, RUNNER_OF_ARCH } from '../../lab/compare/plan.ts';
import { ConfigError, UsageError } from '../../lab/errors.ts';

describe('lab compare --plan', () => {
  const plan = planCells({ entries: ['v6egress', 'v6egress@v6only', 'routed-subprefix'], arches: ['x86_64', 'aarch64'] });

  it('is exactly { include: [...] }: any other key would be a matrix dimension', () => {
    expect(Object.keys(plan)).toEqual(['include']);
    expect(plan.include).toHaveLength(6);
  });

  it('gives every cell a stable, readable id and the runner of its architecture', () => {
    expect(plan.include.map((c) => c.id)).toEqual([
      'v6egress--netns-debian-x86_64',
      'v6egress--netns-debian-aarch64',
      'v6egress@v6only--netns-debian-x86_64',
      'v6egress@v6only--netns-debian-aarch64',
      'routed-subprefix--netns-debian-x86_64',
      'routed-subprefix--netns-debian-aarch64',
    ]);
    for (const c of plan.include) expect(c.runner).toBe(RUNNER_OF_ARCH[c.arch]);
    expect(RUNNER_OF_ARCH).toEqual({ x86_64: 'ubuntu-24.04', aarch64: 'ubuntu-24.04-arm' });
    // The same request plans the same cells.
    expect(planCells({ entries: ['v6egress', 'v6egress@v6only', 'routed-subprefix'], arches: ['x86_64', 'aarch64'] })).toEqual(plan);
  });

  it('reads an id back as the cell it names (the id alone is enough for --cell)', () => {
    for (const c of plan.include) expect(cellFromId(c.id)).toEqual(c);
    expect(cellFromId('clat-464xlat@v6only--qemu-debian-aarch64')).toMatchObject({ design: 'clat-464xlat', v6only: true, tier: 'qemu', arch: 'aarch64', runner: 'ubuntu-24.04-arm' });
    expect(cellId({ label: 'v6egress', tier: 'qemu', guest: 'nixos', arch: 'aarch64' })).toBe('v6egress--qemu-nixos-aarch64');
  });

  it('spans tiers and guests: each tier with the asked guests it has; --allow-failure marks the cells', () => {
    const nixos = planCells({ entries: ['v6egress'], tiers: ['qemu'], guests: ['nixos'], arches: ['x86_64', 'aarch64'], allowFailure: true });
    expect(nixos.include.map((c) => [c.id, c.allowFailure])).toEqual([
      ['v6egress--qemu-nixos-x86_64', true],
      ['v6egress--qemu-nixos-aarch64', true],
    ]);
    const both = planCells({ entries: ['v6egress'], tiers: ['netns', 'qemu'], guests: ['debian', 'nixos'], arches: ['aarch64'] });
    expect(both.include.map((c) => c.id)).toEqual(['v6egress--netns-debian-aarch64', 'v6egress--qemu-debian-aarch64', 'v6egress--qemu-nixos-aarch64']);
    expect(planCells({ entries: ['v6egress'], tiers: ['vagrant'], arches: ['aarch64'] }).include[0]!.guest).toBe('nixos');
  });

  it('refuses what could not run, naming the fix', () => {
    const fails = (request: Parameters<typeof planCells>[0], type: typeof ConfigError | typeof UsageError, message: RegExp) => {
      let error: unknown;
      try {
        planCells(request);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(request)).toBeInstanceOf(type);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/Fix:/);
    };
    fails({ entries: ['nope'] }, ConfigError, /design.name.*not a known design.*v6egress/);
    fails({ entries: [] }, UsageError, /at least one design/);
    fails({ entries: ['v6egress', 'v6egress'] }, UsageError, /named twice/);
    fails({ entries: ['v6egress@v4only'] }, UsageError, /<design>@v6only/);
    fails({ entries: ['docker-routed-ndp'] }, ConfigError, /needs docker.*--host qemu/);
    fails({ entries: ['v6egress'], tiers: ['kvm'] }, ConfigError, /lab.tier/);
    fails({ entries: ['v6egress'], arches: ['riscv64'] }, ConfigError, /lab.arch/);
    fails({ entries: ['v6egress'], tiers: ['netns'], guests: ['nixos'] }, ConfigError, /netns tier has none of these guests/);
    fails({ entries: ['v6egress'], tiers: ['qemu'], guests: ['debian', 'arch'] }, ConfigError, /no tier of the plan has this guest/);
  });

  it('finds a cell of the plan, or names the plan\'s cells', () => {
    expect(findCell(plan, 'routed-subprefix--netns-debian-aarch64').design).toBe('routed-subprefix');
    expect(() => findCell(plan, 'routed-subprefix--qemu-debian-aarch64')).toThrow(/not a cell of this plan. Its cells: v6egress--netns-debian-x86_64, /);
    expect(() => cellFromId('v6egress')).toThrow(UsageError);
    expect(() => cellFromId('v6egress--netns-debian')).toThrow(/not a cell id/);
    expect(() => cellFromId('clat-464xlat--qemu-debian-x86_64')).toThrow(/that cell is clat-464xlat@v6only--qemu-debian-x86_64/);
    expect(() => cellFromId('docker-routed-ndp--netns-debian-x86_64')).toThrow(ConfigError);
  });
});
