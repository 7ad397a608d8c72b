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
import { snapshotKey } from './snapshot.ts';
import { discardSnapshot, findSnapshot } from './snapshotCache.ts';
import { qemuVersion, vmMonitor } from './vm.ts';
import { describeGuestStart, type GuestRecord } from '../../state/store.ts';
import type { LabPlan } from '../../topology/plan.ts';
import { renderUnit } from '../../units/render.ts';
import { installBaseSystem, renderBase } from '../../lifecycle/apply.ts';
import { debianWebArm } from './webArmSystem.ts';

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
): Promise<GuestRecord> {
  const prepared = await prepareGuest(plan, containerImage, progress);
  const useSnapshot = plan.config.lab.snapshot;
  let key: string | undefined;
  let restoreFailed: string | undefined;
  if (!useSnapshot) progress.note('lab.snapshot=false: web-arm boots cold (no snapshot restored or saved)');
  else {
    key = await guestSnapshotKey(plan, prepared);
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
