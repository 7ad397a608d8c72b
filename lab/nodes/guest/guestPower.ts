/**
 * web-arm's power cycle on the qemu tier: boot the guest image under QEMU with its only NIC a
 * tap in the upstream router's namespace, wait for multi-user.target through the agent, load
 * the lab's container image into the guest's podman; reboot for real; power off by mark.
 */
import { ConfigError, LabBrokenError } from '../../errors.ts';
import type { Progress } from '../../progress.ts';
import { ensureGuestImage, ensureQemuHostPackages, type GuestImage } from '../../qemu/image.ts';
import { guestRecipe, guestSpecFromConfig, type GuestArch } from '../../qemu/recipe.ts';
import { consoleTail, destroyVm, startVm, type RunningVm } from '../../qemu/vm.ts';
import type { GuestRecord } from '../../state/store.ts';
import { nativeArch, type LabConfig } from '../../topology/config.ts';
import type { LabPlan } from '../../topology/plan.ts';
import { waitUntil } from '../../wait.ts';
import { configureRouterPort } from '../wiring.ts';
import { forgetGuestAgent, guestAgent, guestMachine, webArmVmNames } from './guestMachine.ts';

const BOOT_TIMEOUT_MS = 15 * 60_000;

const DEBIAN_ARCH: Record<LabConfig['lab']['arch'], GuestArch> = { x86_64: 'amd64', aarch64: 'arm64' };

/**
 * The guest's Debian architecture. The lab's container image (stand-ins, probe) is built for
 * this machine's architecture, so a guest of another architecture could boot but not run it.
 */
export function guestArchOf(config: LabConfig): GuestArch {
  if (config.lab.arch !== nativeArch()) {
    throw new ConfigError(
      'lab.arch',
      config.lab.arch,
      `is not this machine's architecture (${nativeArch()}): the lab's container image is built for ${nativeArch()} only, so web-arm's containers could not run in a ${config.lab.arch} guest`,
      `use --arch ${nativeArch()} here, or run --arch ${config.lab.arch} on a ${config.lab.arch} machine (e.g. the nightly ARM runner)`,
    );
  }
  return DEBIAN_ARCH[config.lab.arch];
}

export interface GuestBoot {
  vm: RunningVm;
  image: GuestImage;
  record: GuestRecord;
}

export async function bootGuest(plan: LabPlan, containerImage: { tag: string; tarball: string }, progress: Progress): Promise<GuestBoot> {
  const config = plan.config;
  await progress.step('host packages for QEMU', () => ensureQemuHostPackages(progress, guestArchOf(config)));
  const recipe = guestRecipe({ ...guestSpecFromConfig(config, guestArchOf(config)), containerImages: [containerImage.tag] });
  const image = await progress.step('web-arm guest image', () => ensureGuestImage(recipe, progress, { [containerImage.tag]: containerImage.tarball }));
  progress.note(`guest image ${image.hash} (kernel ${image.kernelVersion})${image.built ? `, built in ${Math.round((image.buildMs ?? 0) / 1000)} s` : ', from the cache'}`);
  const names = webArmVmNames(plan);
  const vm = await progress.step(`web-arm: QEMU (${config.lab.arch}), tap ${names.tap} in ${names.netns}`, () =>
    startVm(
      {
        names,
        image,
        mac: config.webArm.mac,
        tapMac: config.upstream.mac,
      },
      progress,
    ),
  );
  await progress.step(`router port ${names.tap}: fe80::1, ${config.upstream.ipv4Gateway}, on-link /64, MAC filter`, () => configureRouterPort(plan));
  const bootToReadyMs = await progress.step('web-arm: boot to multi-user.target (real systemd)', () => waitForBoot(plan, vm.startedAt, vm));
  await progress.step(`web-arm: ${containerImage.tag} is in its podman (preloaded in the guest image)`, () => assertContainerImage(plan, containerImage.tag));
  return {
    vm,
    image,
    record: { arch: config.lab.arch, accel: vm.accel, accelWhy: vm.accelWhy, imageHash: image.hash, kernelVersion: image.kernelVersion, bootToReadyMs },
  };
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
  return Math.round(performance.now() - since);
}

async function assertContainerImage(plan: LabPlan, tag: string): Promise<void> {
  const seen = await guestMachine(plan).execute(`podman image exists ${tag}`, { timeoutMs: 120_000 });
  if (seen.exitCode !== 0) throw new LabBrokenError(`web-arm's podman has no image ${tag} (it should be preloaded in the guest image): ${seen.stderr.trim()}`);
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
