/**
 * web-arm's start on the qemu tier (Debian guest), up to its base system running: a restore of
 * the clean web-arm snapshot when one is cached for this guest (seconds), else a cold boot
 * (a minute or more under TCG) followed by the base system's install, after which the snapshot
 * is saved for the next lab. A restore that fails in any way is removed and followed by a cold
 * boot, said in a progress note and kept in the guest record. `lab.snapshot=false`
 * (`--no-snapshot`) always boots cold and saves nothing.
 */
import { LabBrokenError } from '../../errors.ts';
import { assertStarted } from '../../units/results.ts';
import {
  bootGuest,
  destroyGuest,
  prepareGuest,
  type PreparedGuest,
  restoreGuest,
  saveGuestSnapshot,
  SnapshotLoadError,
} from './guestPower.ts';
import { webArmVmNames } from './guestMachine.ts';
import type { Progress } from '../../progress.ts';
import { DEFAULT_GUEST_MEMORY_MIB } from './argv.ts';
import type { GuestArch } from './recipe.ts';
import { appliedSnapshotKey, snapshotKey } from './snapshot.ts';
import { discardSnapshot, findSnapshot, type CachedSnapshot } from './snapshotCache.ts';
import { qemuVersion, vmMonitor } from './vm.ts';
import { describeGuestStart, type GuestRecord } from '../../state/store.ts';
import type { LabPlan } from '../../topology/plan.ts';
import { renderUnit } from '../../units/render.ts';
import { installBaseSystem, renderBase } from '../../lifecycle/apply.ts';
import { debianWebArm } from './webArmSystem.ts';
import { readFileSync } from 'node:fs';
import type { DesignedSystem, DesignRestored, StartRequest } from '../tier.ts';
import { guestMachine } from './guestMachine.ts';
import { unitStates } from '../systemctl.ts';
import { renderDesign } from '../../lifecycle/apply.ts';

/**
 * What this process started each lab's guest from (prepareGuest's result and the clean key),
 * for the design-applied save after the lifecycle's apply (same `lab up`, same process).
 */
const startedGuests = new Map<string, { prepared: PreparedGuest; cleanKey: string; bootToReadyMs?: number }>();

/** The snapshot key of this lab's guest: its image, its base system, the machine QEMU emulates. */
export async function guestSnapshotKey(plan: LabPlan, prepared: PreparedGuest): Promise<string> {
  const base = renderBase(debianWebArm(plan), plan.config, prepared.containerImage.tag);
  return snapshotKey({
    imageHash: prepared.image.hash,
    arch: prepared.arch,
    accel: prepared.accel.accel,
    qemuVersion: await qemuVersion(prepared.arch),
    memoryMiB: DEFAULT_GUEST_MEMORY_MIB,
    mac: plan.config.webArm.mac,
    baseUnits: Object.fromEntries(base.units.map((u) => [u.name, renderUnit(u)])),
    baseFiles: base.files,
    baseSettings: { dockerd: plan.config.webArm.docker.enabled ? 'on' : 'off' },
  });
}

/** The units a restored web-arm must have active: the base system's, and dockerd when it is on. */
export function baseUnitsToCheck(plan: LabPlan, image: string): string[] {
  return [...renderBase(debianWebArm(plan), plan.config, image).units.map((u) => u.name), ...(plan.config.webArm.docker.enabled ? ['docker.service'] : [])];
}

/**
 * Brings web-arm up with its base system running; `onBooted` is called as soon as a guest is
 * recorded (a cold boot, before the base system), so the lab's state knows it early.
 */
export async function startWebArmGuest(
  plan: LabPlan,
  containerImage: { tag: string; tarball: string; arch: GuestArch },
  progress: Progress,
  onBooted: (record: GuestRecord) => void = () => undefined,
  designed?: StartRequest<unknown>['designed'],
): Promise<GuestRecord> {
  const prepared = await prepareGuest(plan, containerImage, progress);
  const useSnapshot = plan.config.lab.snapshot;
  let key: string | undefined;
  let restoreFailed: string | undefined;
  if (!useSnapshot) progress.note('lab.snapshot=false: web-arm boots cold (no snapshot restored or saved)');
  else {
    key = await guestSnapshotKey(plan, prepared);
    startedGuests.set(plan.name, { prepared, cleanKey: key });
    if (designed) {
      const applied = await restoreApplied(plan, prepared, key, designed, progress);
      if (applied) {
        onBooted(applied);
        return applied;
      }
    }
    const found = findSnapshot(key);
    if (found.snapshot) {
      const snapshot = found.snapshot;
      try {
        const baseUnits = baseUnitsToCheck(plan, containerImage.tag);
        const restored = await progress.step(`web-arm: restore the clean web-arm snapshot ${key} (saved ${snapshot.meta.savedAt} by lab ${snapshot.meta.savedBy})`, () =>
          restoreGuest(plan, prepared, snapshot, baseUnits, progress),
        );
        progress.note(`web-arm ${describeGuestStart(restored.record)} (state.bin ${Math.round(snapshot.meta.stateBytes / 1024 ** 2)} MiB; a cold boot took ${Math.round((snapshot.meta.bootToReadyMs ?? 0) / 1000)} s)`);
        onBooted(restored.record);
        return restored.record;
      } catch (error) {
        restoreFailed = (error as Error).message.split('\n')[0]!;
        progress.note(`restoring snapshot ${key} failed, booting cold instead: ${restoreFailed}`);
        // Nothing of the failed start stays: its QEMU, tap, overlay and sockets go.
        await progress.step('remove the half-restored web-arm (QEMU, tap, overlay)', () => destroyGuest(plan));
        if (error instanceof SnapshotLoadError) {
          discardSnapshot(key);
          progress.note(`snapshot ${key} could not be loaded: discarded (this boot saves a new one)`);
        }
      }
    } else progress.note(`no clean web-arm snapshot ${key} (${found.why}): booting cold; it is saved once the base system runs`);
  }

  const boot = await bootGuest(plan, prepared, progress);
  const record: GuestRecord = { ...boot.record, ...(restoreFailed ? { restoreFailed } : {}) };
  if (key) startedGuests.set(plan.name, { prepared, cleanKey: key, ...(record.bootToReadyMs !== undefined ? { bootToReadyMs: record.bootToReadyMs } : {}) });
  onBooted(record);
  progress.note(`web-arm booted in ${Math.round((record.bootToReadyMs ?? 0) / 1000)} s (${record.accel}: ${record.accelWhy})`);
  // Real systemd: the base system is installed like a first `nixos-rebuild switch` and started.
  assertStarted({ failed: (await installBaseSystem(debianWebArm(plan), plan.config, containerImage.tag, progress)).failed }, 'web-arm base system');
  if (key && !findSnapshot(key).snapshot) {
    const snapshotKeyNow = key;
    try {
      const saved = await progress.step(`save the clean web-arm snapshot ${key} (pause, migrate to state.bin, copy the disk, continue)`, () =>
        saveGuestSnapshot(plan, prepared, snapshotKeyNow, record.bootToReadyMs, progress),
      );
      if (saved.saved) {
        record.snapshotSaveMs = saved.pausedMs;
        record.snapshot = { key, savedAt: saved.snapshot.meta.savedAt, stateBytes: saved.snapshot.meta.stateBytes };
        const m = saved.snapshot.meta;
        progress.note(
          `snapshot ${key} saved: guest paused ${(m.saveMs / 1000).toFixed(1)} s (migrate ${(m.migrateMs / 1000).toFixed(1)} s, disk copy ${(m.diskCopyMs / 1000).toFixed(1)} s), state.bin ${Math.round(m.stateBytes / 1024 ** 2)} MiB, disk.qcow2 ${Math.round(m.diskBytes / 1024 ** 2)} MiB`,
        );
      } else progress.note(`snapshot ${key} was saved by another lab meanwhile`);
    } catch (error) {
      // The snapshot only saves time later: this lab goes on, as long as its guest runs.
      progress.note(`saving snapshot ${key} failed (the next lab boots cold): ${(error as Error).message.split('\n')[0]}`);
      await assertGuestRunning(plan);
    }
  }
  return record;
}

/** The design-applied snapshot's key for this lab's guest and designed system. */
function appliedKeyOf(plan: LabPlan, cleanKey: string, designed: DesignedSystem): string {
  return appliedSnapshotKey(cleanKey, designed.fingerprint);
}

/**
 * Restores web-arm with the design applied when a snapshot of this designed system is cached:
 * then checks it as a clean restore is checked (agent, clock, neighbour caches, the node image)
 * with the units that were active at the save instead of the base units. Undefined when there
 * is none or the restore failed (removed again; a snapshot QEMU cannot load is discarded): the
 * caller goes on with the clean web-arm.
 */
async function restoreApplied(
  plan: LabPlan,
  prepared: PreparedGuest,
  cleanKey: string,
  designed: NonNullable<StartRequest<unknown>['designed']>,
  progress: Progress,
): Promise<GuestRecord | undefined> {
  const system = designed.render(debianWebArm(plan));
  const key = appliedKeyOf(plan, cleanKey, system);
  const found = findSnapshot(key);
  if (!found.snapshot) {
    progress.note(`no design-applied snapshot ${key} of ${system.design} ${system.params} (${found.why}): the design is applied on the clean web-arm, then saved`);
    return undefined;
  }
  const snapshot: CachedSnapshot = found.snapshot;
  const design = snapshot.meta.design;
  try {
    if (!design) throw new SnapshotLoadError(`snapshot ${key} has no design in its meta.json`);
    const baselines = readBaselines(snapshot);
    const restored = await progress.step(`web-arm: restore the design-applied snapshot ${key} (${design.name} ${design.params}, saved ${snapshot.meta.savedAt} by lab ${snapshot.meta.savedBy})`, () =>
      restoreGuest(plan, prepared, snapshot, design.activeUnits, progress),
    );
    const record: GuestRecord = {
      ...restored.record,
      designApplied: { key, design: design.name, params: design.params, savedAt: snapshot.meta.savedAt, savedBy: snapshot.meta.savedBy },
    };
    progress.note(`web-arm ${describeGuestStart(record)} (state.bin ${Math.round(snapshot.meta.stateBytes / 1024 ** 2)} MiB)`);
    const restoredDesign: DesignRestored = { key, savedAt: snapshot.meta.savedAt, savedBy: snapshot.meta.savedBy, baselines };
    designed.restored(restoredDesign);
    return record;
  } catch (error) {
    progress.note(`restoring design-applied snapshot ${key} failed, going on with the clean web-arm: ${(error as Error).message.split('\n')[0]}`);
    await progress.step('remove the half-restored web-arm (QEMU, tap, overlay)', () => destroyGuest(plan));
    if (error instanceof SnapshotLoadError) {
      discardSnapshot(key);
      progress.note(`snapshot ${key} could not be used: discarded (this up saves a new one)`);
    }
    return undefined;
  }
}

/** baselines.json of a design-applied snapshot: file name → content. */
function readBaselines(snapshot: CachedSnapshot): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(snapshot.paths.baselines, 'utf8'));
  } catch (error) {
    throw new SnapshotLoadError(`snapshot ${snapshot.key}: baselines.json is unreadable (${(error as Error).message})`);
  }
  const ok = typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string');
  if (!ok) throw new SnapshotLoadError(`snapshot ${snapshot.key}: baselines.json is not a map of file name to content`);
  return value as Record<string, string>;
}

/**
 * After the lifecycle applied the design in full: saves web-arm as it runs now (paused for the
 * save, then continued and its clock set again), with the units active at this moment and the
 * baselines of the apply. A failure is a note: the lab goes on with its guest, as long as it runs.
 */
export async function saveAppliedSnapshot(request: {
  plan: LabPlan;
  designed: DesignedSystem;
  baselines: Record<string, string>;
  progress: Progress;
  record: (patch: { guest: GuestRecord }) => void;
  guest: GuestRecord | undefined;
}): Promise<void> {
  const { plan, designed, baselines, progress } = request;
  const started = startedGuests.get(plan.name);
  if (!started) {
    progress.note('web-arm was not started by this process with a snapshot key: no design-applied snapshot saved');
    return;
  }
  const key = appliedKeyOf(plan, started.cleanKey, designed);
  if (findSnapshot(key).snapshot) {
    progress.note(`design-applied snapshot ${key} is already cached (saved by another lab meanwhile)`);
    return;
  }
  try {
    const rendered = renderDesign(debianWebArm(plan), plan.config, started.prepared.containerImage.tag);
    const units = [...new Set([...baseUnitsToCheck(plan, started.prepared.containerImage.tag), ...rendered.units.map((u) => u.name)])];
    const states = await unitStates(guestMachine(plan), units);
    const activeUnits = units.filter((u) => states.get(u) === 'active');
    const saved = await progress.step(`save the design-applied snapshot ${key} (${designed.design} ${designed.params}; pause, migrate, copy the disk, continue)`, () =>
      saveGuestSnapshot(plan, started.prepared, key, started.bootToReadyMs, progress, {
        design: { name: designed.design, params: designed.params, fingerprint: designed.fingerprint, cleanKey: started.cleanKey, activeUnits, baselines: Object.keys(baselines) },
        files: { 'baselines.json': `${JSON.stringify(baselines)}\n` },
      }),
    );
    if (!saved.saved) {
      progress.note(`design-applied snapshot ${key} was saved by another lab meanwhile`);
      return;
    }
    const m = saved.snapshot.meta;
    progress.note(
      `design-applied snapshot ${key} saved (${activeUnits.length} units active, ${Object.keys(baselines).length} baseline files): guest paused ${(m.saveMs / 1000).toFixed(1)} s, state.bin ${Math.round(m.stateBytes / 1024 ** 2)} MiB, disk.qcow2 ${Math.round(m.diskBytes / 1024 ** 2)} MiB`,
    );
    if (request.guest) request.record({ guest: { ...request.guest, appliedSnapshot: { key, saveMs: saved.pausedMs } } });
  } catch (error) {
    progress.note(`saving design-applied snapshot ${key} failed (the next lab applies the design again): ${(error as Error).message.split('\n')[0]}`);
    await assertGuestRunning(plan);
  }
}

/** After a failed save the guest must be running again (QMP `cont`), or the lab cannot go on. */
async function assertGuestRunning(plan: LabPlan): Promise<void> {
  const qmp = await vmMonitor(webArmVmNames(plan));
  try {
    const { status, running } = await qmp.status();
    if (!running) throw new LabBrokenError(`web-arm is ${status} after a failed snapshot save (not running)`);
  } finally {
    qmp.close();
  }
}
