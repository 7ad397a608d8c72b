/**
 * The snapshot cache of the qemu tier, beside the image cache: <cache>/qemu/snapshots/<key>/
 * holds state.bin (the paused VM migrated to a file), disk.qcow2 (its overlay at that moment,
 * backed by the image's read-only base) and meta.json. A snapshot is written into a directory
 * of its own process and renamed into place, so a lab sees a whole snapshot or none; when two
 * labs save the same key at once, the first rename wins and the other copy is dropped. `lab
 * down` never touches it (like the image cache).
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statfsSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../exec.ts';
import type { Progress } from '../../progress.ts';
import { migrateToFileUri, vmRunFiles } from './argv.ts';
import { qemuCacheDir } from './image.ts';
import { QmpError } from './qmp.ts';
import {
  parseSnapshotMeta,
  partialSnapshotDir,
  partialSnapshotPid,
  renderSnapshotMeta,
  SNAPSHOT_FILES,
  snapshotFilesMatch,
  snapshotPaths,
  type SnapshotMeta,
  type SnapshotPaths,
} from './snapshot.ts';
import { vmMonitor, type VmNames } from './vm.ts';
import { isAlive } from '../../host/processes.ts';
import { SNAPSHOT_CACHE_ENV, snapshotBudgetFromEnv, snapshotsToEvict, type SnapshotBudget } from './snapshotBudget.ts';

export interface CachedSnapshot {
  key: string;
  paths: SnapshotPaths;
  meta: SnapshotMeta;
}

export function snapshotRoot(): string {
  const dir = join(qemuCacheDir(), 'snapshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

type Lookup = { snapshot: CachedSnapshot; why?: undefined } | { snapshot?: undefined; why: string };

/** The snapshot of a key, when a whole one is there; else why not. A lab looking it up uses it: it becomes the most recently used. */
export function findSnapshot(key: string): Lookup {
  const found = readSnapshot(snapshotRoot(), key);
  if (found.snapshot) markUsed(found.snapshot.paths.dir);
  return found;
}

/** Last use is the directory's mtime (nothing is added to or removed from a whole snapshot's directory). */
function markUsed(dir: string): void {
  const now = new Date();
  try {
    utimesSync(dir, now, now);
  } catch {
    // gone meanwhile (another lab removed it): the caller finds out when it opens the files
  }
}

function lastUsedMs(dir: string): number {
  try {
    return statSync(dir).mtimeMs;
  } catch {
    return 0;
  }
}

function readSnapshot(root: string, key: string): Lookup {
  const paths = snapshotPaths(root, key);
  if (!existsSync(paths.dir)) return { why: 'none saved yet' };
  let text: string;
  try {
    text = readFileSync(paths.meta, 'utf8');
  } catch {
    return { why: 'its meta.json is missing' };
  }
  const reading = parseSnapshotMeta(text, key);
  if (!reading.ok) return { why: reading.why };
  const mismatch = snapshotFilesMatch(reading.meta, { state: sizeOf(paths.state), disk: sizeOf(paths.disk) });
  if (mismatch) return { why: mismatch };
  if (reading.meta.design && sizeOf(paths.baselines) === undefined) return { why: `${SNAPSHOT_FILES.baselines} is missing` };
  return { snapshot: { key, paths, meta: reading.meta } };
}

/** Every whole snapshot in the cache, newest first (partial and unreadable ones are left out). */
export function listCachedSnapshots(root = snapshotRoot()): CachedSnapshot[] {
  return readdirSync(root)
    .filter((name) => /^[0-9a-f]{16}$/.test(name))
    .flatMap((key) => readSnapshot(root, key).snapshot ?? [])
    .sort((a, b) => (a.meta.savedAt < b.meta.savedAt ? 1 : a.meta.savedAt > b.meta.savedAt ? -1 : 0));
}

/**
 * Removes the least recently used snapshots until the cache fits its budget (snapshotBudget.ts);
 * `keep` stays whatever it costs. Returns the keys removed and their bytes.
 */
export function pruneSnapshotCache(keep: readonly string[], budget: SnapshotBudget = snapshotBudgetFromEnv(), root = snapshotRoot()): { removed: string[]; bytes: number } {
  const snapshots = listCachedSnapshots(root);
  const uses = snapshots.map((s) => ({ key: s.key, bytes: s.meta.stateBytes + s.meta.diskBytes, lastUsedMs: lastUsedMs(s.paths.dir) }));
  const disk = statfsSync(root);
  const evict = snapshotsToEvict(uses, budget, disk.bavail * disk.bsize, new Set(keep));
  let bytes = 0;
  for (const key of evict) {
    if (discardSnapshot(key, root)) bytes += uses.find((u) => u.key === key)!.bytes;
  }
  return { removed: evict, bytes };
}

/** Removes partial or discarded snapshot directories whose process is gone (a crash part-way). */
export function removeStalePartials(root = snapshotRoot()): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(root)) {
    const pid = partialSnapshotPid(name);
    if (pid === undefined || (pid !== process.pid && isAlive(pid))) continue;
    rmSync(join(root, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * Moves a snapshot out of the way (it could not be loaded), so the next cold boot saves a new
 * one. A VM already running on it keeps its open files.
 */
export function discardSnapshot(key: string, root = snapshotRoot()): boolean {
  const paths = snapshotPaths(root, key);
  const aside = join(root, `.${key}.discarded-${process.pid}`);
  try {
    renameSync(paths.dir, aside);
  } catch {
    return false; // already gone (another lab discarded it)
  }
  rmSync(aside, { recursive: true, force: true });
  return true;
}

/** After a save: the cache back within its budget, this snapshot kept; what went is said. A failure here never fails the save. */
function keepWithinBudget(key: string, root: string, progress: Progress): void {
  try {
    const budget = snapshotBudgetFromEnv();
    const pruned = pruneSnapshotCache([key], budget, root);
    if (pruned.removed.length) {
      progress.note(
        `snapshot cache: removed ${pruned.removed.length} least recently used (${gib(pruned.bytes)} GiB: ${pruned.removed.join(', ')}) to stay within its budget ` +
          `(${SNAPSHOT_CACHE_ENV}: ${gib(budget.maxBytes)} GiB, and ${gib(budget.reserveFreeBytes)} GiB free on its disk)`,
      );
    }
  } catch (error) {
    progress.note(`snapshot cache: not pruned: ${(error as Error).message}`);
  }
}

const gib = (bytes: number): string => (bytes / 1024 ** 3).toFixed(1);

/** The fields of meta.json the saving lab knows before the save (the rest is measured). */
export type SnapshotOrigin = Omit<SnapshotMeta, 'schema' | 'key' | 'savedAt' | 'stateBytes' | 'diskBytes' | 'saveMs' | 'migrateMs' | 'diskCopyMs'>;

export interface SaveResult {
  /** The snapshot now in the cache (this lab's, or another lab's saved in the meantime). */
  snapshot: CachedSnapshot;
  /** Whether this call wrote it. */
  saved: boolean;
  /** How long the VM was paused (stop to cont); 0 when nothing was saved. */
  pausedMs: number;
}

/** Migration bandwidth for a save to a local file: the default (32 MiB/s in 7.2) would take half a minute. */
const SAVE_BANDWIDTH_BYTES_PER_S = 64 * 1024 ** 3;

/**
 * Saves a running VM: QMP `stop`, `migrate` to state.bin (completed), a copy of its disk
 * overlay while it is paused, then `cont`, whatever happened (the lab goes on with it). The
 * files go to a directory of this process, renamed into place at the end.
 */
export async function saveVmSnapshot(names: VmNames, key: string, origin: SnapshotOrigin, progress: Progress, extraFiles: Record<string, string> = {}): Promise<SaveResult> {
  const root = snapshotRoot();
  removeStalePartials(root);
  const existing = findSnapshot(key);
  if (existing.snapshot) return { snapshot: existing.snapshot, saved: false, pausedMs: 0 };
  const work = partialSnapshotDir(root, key, process.pid);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const state = join(work, SNAPSHOT_FILES.state);
    const disk = join(work, SNAPSHOT_FILES.disk);
    const qmp = await vmMonitor(names);
    let migrateMs = 0;
    let diskCopyMs = 0;
    let pausedMs = 0;
    try {
      const stopped = performance.now();
      await qmp.execute('stop');
      try {
        await progress.step('migrate the paused VM to state.bin', async () => {
          await qmp.execute('migrate-set-parameters', { 'max-bandwidth': SAVE_BANDWIDTH_BYTES_PER_S });
          await qmp.execute('migrate', { uri: migrateToFileUri(state) });
          await qmp.waitForMigration('migration to state.bin', 5 * 60_000);
        });
        migrateMs = Math.round(performance.now() - stopped);
        const copyStarted = performance.now();
        await progress.step('copy the disk overlay (the guest is paused)', () =>
          run(['cp', '--sparse=always', vmRunFiles(names.runDir).disk, disk], { timeoutMs: 5 * 60_000 }),
        );
        diskCopyMs = Math.round(performance.now() - copyStarted);
      } finally {
        // The lab goes on with this guest, saved or not.
        const resumed = await qmp.execute('cont').then(
          () => undefined,
          (error: unknown) => error as Error,
        );
        pausedMs = Math.round(performance.now() - stopped);
        if (resumed) throw new QmpError(`the guest stays paused after the snapshot: ${resumed.message}`);
      }
    } finally {
      qmp.close();
    }
    chmodSync(state, 0o444);
    chmodSync(disk, 0o444);
    const meta: SnapshotMeta = {
      schema: 'v6lab.qemu-snapshot/1',
      key,
      savedAt: new Date().toISOString(),
      ...origin,
      stateBytes: statSync(state).size,
      diskBytes: statSync(disk).size,
      saveMs: pausedMs,
      migrateMs,
      diskCopyMs,
    };
    // Beside the guest (baselines.json of a design-applied one), written before the meta that names them.
    for (const [name, content] of Object.entries(extraFiles)) writeFileSync(join(work, name), content, { mode: 0o444 });
    writeFileSync(join(work, SNAPSHOT_FILES.meta), renderSnapshotMeta(meta));
    const paths = snapshotPaths(root, key);
    try {
      renameSync(work, paths.dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      // Another lab saved the same key first: its snapshot is as good as this one.
      const other = findSnapshot(key);
      if (!other.snapshot) throw new QmpError(`snapshot ${key}: another lab's copy is in the way but unusable (${other.why})`);
      return { snapshot: other.snapshot, saved: false, pausedMs };
    }
    keepWithinBudget(key, root, progress);
    return { snapshot: { key, paths, meta }, saved: true, pausedMs };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
