/**
 * web-arm's power cycle on the qemu tier: boot the guest image (the lab's node image, built for
 * the guest's architecture, preloaded in it) under QEMU with its only NIC a tap in the upstream
 * router's namespace, wait for multi-user.target through the agent, check the node image is in
 * the guest's podman; or restore a saved clean web-arm instead of booting, and save one; reboot
 * for real; power off by mark.
 */
import { LabBrokenError } from '../../errors.ts';
import type { Progress } from '../../progress.ts';
import { type AccelChoice, DEFAULT_GUEST_MEMORY_MIB } from './argv.ts';
import { ensureGuestImage, ensureQemuHostPackages, type GuestImage } from './image.ts';
import { MigrationFailedError, type QmpClient } from './qmp.ts';
import { guestRecipe, guestSpecFromConfig, type GuestArch } from './recipe.ts';
import { webArmImageArch } from '../../images/arch.ts';
import { type CachedSnapshot, type SaveResult, saveVmSnapshot } from './snapshotCache.ts';
import type { SnapshotMeta } from './snapshot.ts';
import { chooseAccel, consoleTail, destroyVm, qemuLogTail, qemuVersion, startVm, vmMonitor, vmRunning, type RunningVm } from './vm.ts';
import type { GuestRecord } from '../../state/store.ts';
import type { LabConfig } from '../../topology/config.ts';
import type { LabPlan } from '../../topology/plan.ts';
import { waitUntil } from '../../wait.ts';
import { configureRouterPort } from '../../nodes/wiring.ts';
import { forgetGuestAgent, guestAgent, guestMachine, webArmVmNames } from './guestMachine.ts';
import { unitStates } from '../systemctl.ts';

const BOOT_TIMEOUT_MS = 15 * 60_000;

/**
 * The guest's Debian architecture (lab.arch). It need not be this machine's: the guest image and
 * the lab's node image inside it (stand-ins, probe) are both built for it (under qemu-user when
 * foreign) and the guest runs under TCG.
 */
export function guestArchOf(config: LabConfig): GuestArch {
  return webArmImageArch(config);
}

export interface GuestBoot {
  vm: RunningVm;
  image: GuestImage;
  record: GuestRecord;
}

/** What a guest is started from, decided once for a boot or a restore. */
export interface PreparedGuest {
  arch: GuestArch;
  image: GuestImage;
  accel: AccelChoice;
  /** The lab's node image built for the guest's architecture (preloaded into its podman). */
  containerImage: { tag: string; tarball: string; arch: GuestArch };
}

/** Host packages, the guest image (built once per recipe) and the accelerator. */
export async function prepareGuest(plan: LabPlan, containerImage: { tag: string; tarball: string; arch: GuestArch }, progress: Progress): Promise<PreparedGuest> {
  const config = plan.config;
  const arch = guestArchOf(config);
  if (containerImage.arch !== arch) {
    throw new LabBrokenError(`the node image ${containerImage.tag} is built for ${containerImage.arch}, the ${config.lab.arch} guest needs one built for ${arch}`);
  }
  await progress.step('host packages for QEMU', () => ensureQemuHostPackages(progress, arch));
  const recipe = guestRecipe({ ...guestSpecFromConfig(config, arch), containerImages: [containerImage.tag] });
  const image = await progress.step('web-arm guest image', () => ensureGuestImage(recipe, progress, { [containerImage.tag]: containerImage.tarball }));
  progress.note(`guest image ${image.hash} (kernel ${image.kernelVersion})${image.built ? `, built in ${Math.round((image.buildMs ?? 0) / 1000)} s` : ', from the cache'}`);
  const accel = await chooseAccel(arch, image.kernel, progress);
  return { arch, image, accel, containerImage };
}

/** A cold boot: QEMU on a fresh overlay of the image, up to multi-user.target. */
export async function bootGuest(plan: LabPlan, prepared: PreparedGuest, progress: Progress): Promise<GuestBoot> {
  const config = plan.config;
  const { arch, image, containerImage } = prepared;
  const names = webArmVmNames(plan);
  const vm = await progress.step(`web-arm: QEMU (${config.lab.arch}), tap ${names.tap} in ${names.netns}`, () =>
    startVm({ names, image, mac: config.webArm.mac, tapMac: config.upstream.mac, accel: prepared.accel }, progress),
  );
  await progress.step(`router port ${names.tap}: fe80::1, ${config.upstream.ipv4Gateway}, on-link /64, MAC filter`, () => configureRouterPort(plan));
  const bootToReadyMs = await progress.step('web-arm: boot to multi-user.target (real systemd)', () => waitForBoot(plan, vm.startedAt, vm));
  await progress.step(`web-arm: ${containerImage.tag} (${arch}) is in its podman (preloaded in the guest image)`, () =>
    assertContainerImage(plan, containerImage.tag, arch),
  );
  return { vm, image, record: { ...recordOf(plan, prepared), start: 'boot', bootToReadyMs } };
}

function recordOf(plan: LabPlan, prepared: PreparedGuest): Omit<GuestRecord, 'start'> {
  return {
    arch: plan.config.lab.arch,
    accel: prepared.accel.accel,
    accelWhy: prepared.accel.why,
    imageHash: prepared.image.hash,
    kernelVersion: prepared.image.kernelVersion,
  };
}

/** A restore that failed because the snapshot could not be loaded (not because the machine was slow): the snapshot is not used again. */
export class SnapshotLoadError extends LabBrokenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SnapshotLoadError';
  }
}

/**
 * A restore of the clean web-arm snapshot instead of a boot: a thin overlay on the snapshot's
 * disk, QEMU with `-incoming` on its state, `cont` once loaded; then the guest's clock is set
 * (it shows the save time), its neighbour caches on the uplink are flushed (this lab's router is
 * new, even if its MAC is the same), and what the base system promised is checked: the agent
 * answers, the base units are active, the node image is in podman. The guest keeps the boot id
 * it was saved with (the same boot). A failure leaves the QEMU running: the caller removes it.
 */
export async function restoreGuest(plan: LabPlan, prepared: PreparedGuest, snapshot: CachedSnapshot, baseUnits: readonly string[], progress: Progress): Promise<GuestBoot> {
  const config = plan.config;
  const { arch, image, containerImage } = prepared;
  const names = webArmVmNames(plan);
  const started = performance.now();
  const mib = Math.round(snapshot.meta.stateBytes / 1024 ** 2);
  const vm = await progress.step(`web-arm: QEMU (${config.lab.arch}) from state.bin (${mib} MiB), tap ${names.tap} in ${names.netns}`, () =>
    startVm(
      {
        names,
        image,
        mac: config.webArm.mac,
        tapMac: config.upstream.mac,
        accel: prepared.accel,
        restoreFrom: { disk: snapshot.paths.disk, state: snapshot.paths.state },
      },
      progress,
    ),
  );
  await progress.step(`router port ${names.tap}: fe80::1, ${config.upstream.ipv4Gateway}, on-link /64, MAC filter`, () => configureRouterPort(plan));
  await progress.step('web-arm: load the saved state, continue (QMP query-migrate, cont)', async () => {
    let qmp: QmpClient | undefined;
    try {
      qmp = await vmMonitor(names);
      await qmp.waitForMigration('loading state.bin', 5 * 60_000);
      await qmp.execute('cont');
    } catch (error) {
      // The snapshot is bad when QEMU could not load it (it exited, or said the migration
      // failed); a slow machine or a lost connection says nothing about the snapshot.
      if (!vmRunning(names)) {
        const log = qemuLogTail(names, 5).trim();
        throw new SnapshotLoadError(`QEMU exited while loading state.bin${log ? `: ${log.split('\n').join(' | ')}` : ''}`, { cause: error });
      }
      if (error instanceof MigrationFailedError) throw new SnapshotLoadError(error.message, { cause: error });
      throw error;
    } finally {
      qmp?.close();
    }
  });
  const agent = guestAgent(names);
  const machine = guestMachine(plan);
  const uplink = config.webArm.uplink;
  await progress.step('web-arm: agent answers, clock set (guest-set-time)', async () => {
    await agent.waitForAgent(2 * 60_000);
    await syncGuestClock(plan);
  });
  // The checks run side by side in the guest (the agent interleaves their guest-exec polls).
  const what = snapshot.meta.design ? `the ${baseUnits.length} units active at the save active again` : 'base units active';
  await progress.step(`web-arm: neighbour caches on ${uplink} flushed, ${what}, ${containerImage.tag} (${arch}) in its podman`, async () => {
    const [states] = await Promise.all([
      machine
        .succeed(`ip -6 neigh flush dev ${uplink}; ip -4 neigh flush dev ${uplink}; ${consoleMarkCommand(`restored from snapshot ${snapshot.key} (saved ${snapshot.meta.savedAt})`)}`, { timeoutMs: 30_000 })
        .then(() => unitStates(machine, baseUnits)),
      assertContainerImage(plan, containerImage.tag, arch),
    ]);
    const notActive = baseUnits.filter((u) => states.get(u) !== 'active').map((u) => `${u} ${states.get(u) ?? 'unknown'}`);
    if (notActive.length) throw new SnapshotLoadError(`the restored web-arm's ${snapshot.meta.design ? 'units (active at the save)' : 'base units'} are not all active: ${notActive.join(', ')}`);
  });
  const restoreMs = Math.round(performance.now() - started);
  return {
    vm,
    image,
    record: {
      ...recordOf(plan, prepared),
      start: 'restore',
      restoreMs,
      snapshot: { key: snapshot.key, savedAt: snapshot.meta.savedAt, stateBytes: snapshot.meta.stateBytes },
    },
  };
}

/**
 * Sets the guest's clock to this machine's (guest-set-time; the agent also writes the RTC with
 * hwclock, so a reboot keeps it): after a restore the guest shows the time of the save, after a
 * save it lags by the pause. When the agent reports an error the guest's clock is checked.
 */
export async function syncGuestClock(plan: LabPlan): Promise<void> {
  const agent = guestAgent(webArmVmNames(plan));
  try {
    // Nanoseconds since the epoch: beyond 2^53, but a double keeps it to a microsecond.
    await agent.command('guest-set-time', { time: Date.now() * 1_000_000 }, 30_000);
    return;
  } catch (error) {
    // The clock may be set even when writing the RTC failed: the guest's own clock decides.
    const seen = Number((await agent.succeed('date +%s%3N', { timeoutMs: 30_000 })).trim());
    const offMs = Math.abs(seen - Date.now());
    if (!Number.isFinite(seen) || offMs > 10_000) {
      throw new LabBrokenError(`web-arm's clock is ${Math.round(offMs / 1000)} s off after guest-set-time (${(error as Error).message})`);
    }
  }
}

/**
 * Saves the clean web-arm snapshot of a running guest (paused for the save, then continued and
 * its clock set again). Returns what is in the cache afterwards.
 */
export async function saveGuestSnapshot(
  plan: LabPlan,
  prepared: PreparedGuest,
  key: string,
  bootToReadyMs: number | undefined,
  progress: Progress,
  applied?: { design: NonNullable<SnapshotMeta['design']>; files: Record<string, string> },
): Promise<SaveResult> {
  const names = webArmVmNames(plan);
  // Let go of the agent's channel while the guest is paused (nothing would read it).
  guestAgent(names).close();
  const result = await saveVmSnapshot(
    names,
    key,
    {
      savedBy: plan.name,
      imageHash: prepared.image.hash,
      arch: prepared.arch,
      accel: prepared.accel.accel,
      qemuVersion: await qemuVersion(prepared.arch),
      memoryMiB: DEFAULT_GUEST_MEMORY_MIB,
      ...(bootToReadyMs !== undefined ? { bootToReadyMs } : {}),
      ...(applied ? { design: applied.design } : {}),
    },
    progress,
    applied?.files,
  );
  if (result.pausedMs) await syncGuestClock(plan);
  return result;
}

/** Waits for the agent and multi-user.target; returns ms since `since` (a performance.now()). */
async function waitForBoot(plan: LabPlan, since: number, vm?: RunningVm): Promise<number> {
  const agent = guestAgent(webArmVmNames(plan));
  try {
    await agent.waitForAgent(BOOT_TIMEOUT_MS);
    await agent.waitForUnit('multi-user.target', BOOT_TIMEOUT_MS);
  } catch (error) {
    if (vm) (error as Error).message += `\nconsole of web-arm (last lines):\n${consoleTail(vm, 40)}`;
    throw error;
  }
  const readyMs = Math.round(performance.now() - since);
  await markConsole(plan, 'at multi-user.target after a cold boot');
  return readyMs;
}

/**
 * The shell line that has the guest write one line to its own serial console: the boot is quiet
 * (kernel `quiet`, no login prompt), so without it console.log would stay empty after a boot or a
 * restore, and a person reading it could not tell which boot or restore it belongs to. The line
 * names the event, the boot id (the journal's) and the guest's clock.
 */
export function consoleMarkCommand(event: string): string {
  const plain = event.replace(/["\\`$]/g, '');
  return `echo "v6lab: web-arm ${plain}; boot $(cat /proc/sys/kernel/random/boot_id); $(date -u +%Y-%m-%dT%H:%M:%SZ)" >/dev/console`;
}

/** Writes consoleMarkCommand's line. A console line is for a person reading console.log: one that cannot be written (an exit code, a timeout) does not fail the boot. */
async function markConsole(plan: LabPlan, event: string): Promise<void> {
  await guestMachine(plan)
    .execute(consoleMarkCommand(event), { timeoutMs: 30_000 })
    .catch(() => undefined);
}

/** The preloaded node image is there and recorded as built for the guest's architecture. */
async function assertContainerImage(plan: LabPlan, tag: string, arch: GuestArch): Promise<void> {
  const seen = await guestMachine(plan).execute(`podman image inspect --format '{{.Os}}/{{.Architecture}}' ${tag}`, { timeoutMs: 120_000 });
  if (seen.exitCode !== 0) throw new LabBrokenError(`web-arm's podman has no image ${tag} (it should be preloaded in the guest image): ${seen.stderr.trim()}`);
  const platform = seen.stdout.trim();
  if (platform !== `linux/${arch}`) throw new LabBrokenError(`web-arm's podman sees ${tag} as ${platform}, not linux/${arch} (the preload records the guest's architecture)`);
}

/** A real reboot: the guest reboots itself; returns the time until multi-user.target again. */
export async function rebootGuest(plan: LabPlan, progress: Progress): Promise<{ rebootMs: number; bootIdBefore: string; bootIdAfter: string }> {
  const machine = guestMachine(plan);
  const agent = guestAgent(webArmVmNames(plan));
  const bootIdBefore = (await machine.succeed('cat /proc/sys/kernel/random/boot_id')).trim();
  const started = performance.now();
  await progress.step('web-arm: systemctl reboot (through the agent)', () => agent.shutdown('reboot'));
  const bootIdAfter = await progress.step('web-arm: back at multi-user.target', async () => {
    const id = await waitUntil(
      'web-arm to come back with a new boot id',
      async () => {
        const seen = (await agent.execute('cat /proc/sys/kernel/random/boot_id', { timeoutMs: 10_000 })).stdout.trim();
        return seen && seen !== bootIdBefore ? seen : undefined;
      },
      { timeoutMs: BOOT_TIMEOUT_MS, intervalMs: 2_000 },
    );
    await agent.waitForUnit('multi-user.target', BOOT_TIMEOUT_MS);
    await markConsole(plan, 'at multi-user.target after a real reboot');
    return id;
  });
  return { rebootMs: Math.round(performance.now() - started), bootIdBefore, bootIdAfter };
}

/** Powers web-arm off at once (QEMU killed by its mark, tap and run directory removed). Idempotent. */
export async function destroyGuest(plan: LabPlan): Promise<void> {
  const names = webArmVmNames(plan);
  forgetGuestAgent(names);
  await destroyVm(names);
}
