/**
 * How big the qemu tier's snapshot cache may grow, the pure part. Every design, parameter set
 * and base system saves a snapshot of its own (0.5 to 1.7 GiB here) and the lab's own changes
 * make new keys, so a machine that keeps its cache (a dev machine, CI on one machine) would fill
 * its disk. After each save the least recently used snapshots go until the cache is within its
 * size and the disk keeps a reserve free; the one just saved always stays. Removing one that a
 * running lab was restored from is safe (its QEMU holds the files open); a lab that wants one
 * that went boots cold and saves it again.
 */
import { UsageError } from '../../errors.ts';

export const SNAPSHOT_CACHE_ENV = 'V6LAB_SNAPSHOT_CACHE_GIB';
export const DEFAULT_SNAPSHOT_CACHE_GIB = 20;
/** Free space the cache leaves on its disk: a save writes up to ~2 GiB, a guest image ~1 GiB. */
export const SNAPSHOT_RESERVE_FREE_BYTES = 8 * 1024 ** 3;

export interface SnapshotUse {
  key: string;
  bytes: number;
  /** When a lab last restored, looked up or saved it (the directory's mtime). */
  lastUsedMs: number;
}

export interface SnapshotBudget {
  maxBytes: number;
  reserveFreeBytes: number;
}

/** The keys to remove, least recently used first, so that the cache fits the budget (as far as it can without the kept ones). */
export function snapshotsToEvict(entries: readonly SnapshotUse[], budget: SnapshotBudget, freeBytes: number, keep: ReadonlySet<string>): string[] {
  let total = entries.reduce((sum, e) => sum + e.bytes, 0);
  let free = freeBytes;
  const evict: string[] = [];
  const oldestFirst = [...entries].sort((a, b) => a.lastUsedMs - b.lastUsedMs || (a.key < b.key ? -1 : 1));
  for (const entry of oldestFirst) {
    if (total <= budget.maxBytes && free >= budget.reserveFreeBytes) break;
    if (keep.has(entry.key)) continue;
    evict.push(entry.key);
    total -= entry.bytes;
    free += entry.bytes;
  }
  return evict;
}

/** The budget from the environment: V6LAB_SNAPSHOT_CACHE_GIB (GiB, default 20; 0 keeps none but the newest). */
export function snapshotBudgetFromEnv(env: NodeJS.ProcessEnv = process.env): SnapshotBudget {
  const text = env[SNAPSHOT_CACHE_ENV];
  const gib = text === undefined || text.trim() === '' ? DEFAULT_SNAPSHOT_CACHE_GIB : Number(text);
  if (!Number.isFinite(gib) || gib < 0) {
    throw new UsageError(`${SNAPSHOT_CACHE_ENV}=${JSON.stringify(text)} is not a size in GiB. Fix: a number such as ${DEFAULT_SNAPSHOT_CACHE_GIB} (0 keeps only the newest snapshot), or unset it for ${DEFAULT_SNAPSHOT_CACHE_GIB}`);
  }
  return { maxBytes: Math.round(gib * 1024 ** 3), reserveFreeBytes: SNAPSHOT_RESERVE_FREE_BYTES };
}
