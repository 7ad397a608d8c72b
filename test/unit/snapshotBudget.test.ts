/**
 * The qemu tier's snapshot cache stays within its budget: which snapshots go (pure), the budget
 * from the environment, and a prune of a real cache directory (sparse files of the recorded sizes).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statfsSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../lab/errors.ts';
import { renderSnapshotMeta, snapshotPaths, type SnapshotMeta } from '../../lab/tiers/qemu/snapshot.ts';
import { DEFAULT_SNAPSHOT_CACHE_GIB, SNAPSHOT_RESERVE_FREE_BYTES, snapshotBudgetFromEnv, snapshotsToEvict } from '../../lab/tiers/qemu/snapshotBudget.ts';
import { listCachedSnapshots, pruneSnapshotCache } from '../../lab/tiers/qemu/snapshotCache.ts';

const GiB = 1024 ** 3;
const plenty = 1000 * GiB;

describe('snapshotsToEvict', () => {
  const uses = [
    { key: 'a', bytes: 2 * GiB, lastUsedMs: 300 },
    { key: 'b', bytes: 1 * GiB, lastUsedMs: 100 },
    { key: 'c', bytes: 1 * GiB, lastUsedMs: 200 },
    { key: 'd', bytes: 1 * GiB, lastUsedMs: 400 },
  ];

  it('removes nothing when the cache fits and the disk has its reserve', () => {
    expect(snapshotsToEvict(uses, { maxBytes: 5 * GiB, reserveFreeBytes: GiB }, plenty, new Set())).toEqual([]);
  });

  it('removes the least recently used first, only as many as it takes', () => {
    expect(snapshotsToEvict(uses, { maxBytes: 4 * GiB, reserveFreeBytes: GiB }, plenty, new Set())).toEqual(['b']);
    expect(snapshotsToEvict(uses, { maxBytes: 2.5 * GiB, reserveFreeBytes: GiB }, plenty, new Set())).toEqual(['b', 'c', 'a']);
  });

  it('never removes a kept one, even when the budget is not met without it', () => {
    expect(snapshotsToEvict(uses, { maxBytes: 0, reserveFreeBytes: 0 }, plenty, new Set(['b']))).toEqual(['c', 'a', 'd']);
  });

  it('removes more when the disk is short of its reserve, whatever the cache size', () => {
    expect(snapshotsToEvict(uses, { maxBytes: 100 * GiB, reserveFreeBytes: 8 * GiB }, 6.5 * GiB, new Set(['d']))).toEqual(['b', 'c']);
  });
});

describe('snapshotBudgetFromEnv', () => {
  it('is 20 GiB and an 8 GiB reserve by default', () => {
    expect(snapshotBudgetFromEnv({})).toEqual({ maxBytes: DEFAULT_SNAPSHOT_CACHE_GIB * GiB, reserveFreeBytes: SNAPSHOT_RESERVE_FREE_BYTES });
    expect(snapshotBudgetFromEnv({ V6LAB_SNAPSHOT_CACHE_GIB: '' }).maxBytes).toBe(20 * GiB);
  });

  it('takes GiB, 0 included', () => {
    expect(snapshotBudgetFromEnv({ V6LAB_SNAPSHOT_CACHE_GIB: '2.5' }).maxBytes).toBe(2.5 * GiB);
    expect(snapshotBudgetFromEnv({ V6LAB_SNAPSHOT_CACHE_GIB: '0' }).maxBytes).toBe(0);
  });

  it('refuses what is not a size, naming the variable and the fix', () => {
    for (const bad of ['20G', '-1', 'lots']) {
      expect(() => snapshotBudgetFromEnv({ V6LAB_SNAPSHOT_CACHE_GIB: bad })).toThrow(UsageError);
      expect(() => snapshotBudgetFromEnv({ V6LAB_SNAPSHOT_CACHE_GIB: bad })).toThrow(/V6LAB_SNAPSHOT_CACHE_GIB=.*Fix: a number such as 20/);
    }
  });
});

describe('pruneSnapshotCache on a cache directory', () => {
  const roots: string[] = [];
  afterEach(() => {
    for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
  });

  function cacheWith(snapshots: { key: string; bytes: number; lastUsedS: number }[]): string {
    const root = mkdtempSync(join(tmpdir(), 'v6lab-snapbudget-'));
    roots.push(root);
    for (const s of snapshots) {
      const paths = snapshotPaths(root, s.key);
      mkdirSync(paths.dir);
      const meta: SnapshotMeta = {
        schema: 'v6lab.qemu-snapshot/1', key: s.key, savedAt: '2026-12-06T08:00:00.000Z', savedBy: 't', imageHash: '89195b7859c2', arch: 'amd64',
        accel: 'tcg', qemuVersion: 'QEMU emulator version 7.2.19', memoryMiB: 1024, stateBytes: s.bytes / 2, diskBytes: s.bytes / 2, saveMs: 1, migrateMs: 1, diskCopyMs: 1,
      };
      // Sparse files of the recorded sizes: nothing is written to the disk.
      writeFileSync(paths.state, '');
      truncateSync(paths.state, meta.stateBytes);
      writeFileSync(paths.disk, '');
      truncateSync(paths.disk, meta.diskBytes);
      writeFileSync(paths.meta, renderSnapshotMeta(meta));
      utimesSync(paths.dir, s.lastUsedS, s.lastUsedS);
    }
    return root;
  }

  it('removes the least recently used whole snapshots until the cache fits, and keeps the given one', () => {
    const root = cacheWith([
      { key: '1111111111111111', bytes: 2 * GiB, lastUsedS: 1000 },
      { key: '2222222222222222', bytes: 2 * GiB, lastUsedS: 3000 },
      { key: '3333333333333333', bytes: 2 * GiB, lastUsedS: 2000 },
      { key: '4444444444444444', bytes: 2 * GiB, lastUsedS: 500 },
    ]);
    const pruned = pruneSnapshotCache(['4444444444444444'], { maxBytes: 4 * GiB, reserveFreeBytes: 0 }, root);
    expect(pruned).toEqual({ removed: ['1111111111111111', '3333333333333333'], bytes: 4 * GiB });
    expect(listCachedSnapshots(root).map((s) => s.key).sort()).toEqual(['2222222222222222', '4444444444444444']);
    expect(existsSync(join(root, '1111111111111111'))).toBe(false);
  });

  it('keeps every snapshot when the cache fits and the disk has room', () => {
    const root = cacheWith([{ key: 'aaaaaaaaaaaaaaaa', bytes: GiB, lastUsedS: 1 }]);
    const free = statfsSync(root).bavail * statfsSync(root).bsize;
    expect(pruneSnapshotCache([], { maxBytes: 2 * GiB, reserveFreeBytes: Math.min(free, GiB) }, root)).toEqual({ removed: [], bytes: 0 });
    expect(listCachedSnapshots(root)).toHaveLength(1);
  });
});
