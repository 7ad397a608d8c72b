/**
 * The qemu tier's snapshot ability: the clean web-arm snapshots its start saves and restores
 * and the design-applied ones (snapshotCache.ts), as a person sees and removes them with `lab snapshot`. Removing one a
 * running lab was restored from is safe: that lab's QEMU holds the files open.
 */
import type { SnapshotAbility, SnapshotSummary } from '../tier.ts';
import { snapshotKind } from './snapshot.ts';
import { discardSnapshot, listCachedSnapshots, type CachedSnapshot } from './snapshotCache.ts';

export function snapshotSummary(snapshot: CachedSnapshot): SnapshotSummary {
  const { meta } = snapshot;
  return {
    key: snapshot.key,
    what: snapshotKind(meta),
    savedAt: meta.savedAt,
    savedBy: meta.savedBy,
    bytes: meta.stateBytes + meta.diskBytes,
    facts: {
      arch: meta.arch,
      accel: meta.accel,
      qemu: meta.qemuVersion,
      memory: `${meta.memoryMiB} MiB`,
      ...(meta.bootToReadyMs !== undefined ? { 'cold boot it saves': `${Math.round(meta.bootToReadyMs / 1000)} s` } : {}),
    },
  };
}

export const qemuSnapshots: SnapshotAbility = {
  listSnapshots: () => listCachedSnapshots().map(snapshotSummary),
  removeSnapshot: (key) => discardSnapshot(key),
};
