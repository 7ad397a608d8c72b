/**
 * web-arm's power cycle on the qemu tier: boot the guest image (the lab's node image, built for
 * the guest's architecture, preloaded in it) under QEMU with its only NIC a tap in the upstream
 * router's namespace, wait for multi-user.target through the agent, check the node image is in
 * the guest's podman; reboot for real; power off by mark.
 */
import { ConfigError, LabBrokenError } from '../../errors.ts';
import type { Progress } from '../../progress.ts';
import { ensureGuestImage, ensureQemuHostPackages, type GuestImage } from '../../qemu/image.ts';
import { GUEST_ARCHES, guestRecipe, guestSpecFromConfig, type GuestArch } from '../../qemu/recipe.ts';
import { consoleTail, destroyVm, startVm, type RunningVm } from '../../qemu/vm.ts';
import type { GuestRecord } from '../../state/store.ts';
import type { LabConfig } from '../../topology/config.ts';
import type { LabPlan } from '../../topology/plan.ts';
import { waitUntil } from '../../wait.ts';
import { configureRouterPort } from '../wiring.ts';
import { forgetGuestAgent, guestAgent, guestMachine, webArmVmNames } from './guestMachine.ts';

const BOOT_TIMEOUT_MS = 15 * 60_000;

const DEBIAN_ARCH: Partial<Record<string, GuestArch>> = { x86_64: 'amd64', aarch64: 'arm64' };

/**
 * The guest's Debian architecture. It need not be this machine's: the guest image and the
 * lab's node image inside it (stand-ins, probe) are both built for the guest's architecture
 * (under qemu-user when foreign) and the guest runs under TCG. Only an architecture without a
 * guest recipe is refused.
 */
export function guestArchOf(config: LabConfig): GuestArch {
  const arch = DEBIAN_ARCH[config.lab.arch];
  if (!arch || !GUEST_ARCHES.includes(arch)) {
    const known = Object.keys(DEBIAN_ARCH).filter((a) => GUEST_ARCHES.includes(DEBIAN_ARCH[a]!));
    throw new ConfigError(
      'lab.arch',
      config.lab.arch,
      `has no guest recipe: web-arm's guest image and its node image are built for ${known.join(' and ')} only`,
      `use ${known.map((a) => `--arch ${a}`).join(' or ')}`,
    );
  }
  return arch;
}

export interface GuestBoot {
  vm: RunningVm;
  image: GuestImage;
  record: GuestRecord;
}

/** `containerImage` is the lab's node image built for the guest's architecture (preloaded into its podman). */
export async function bootGuest(plan: LabPlan, containerImage: { tag: string; tarball: string; arch: GuestArch }, progress: Progress): Promise<GuestBoot> {
  const config = plan.config;
  const arch = guestArchOf(config);
  if (containerImage.arch !== arch) {
    throw new LabBrokenError(`the node image ${containerImage.tag} is built for ${containerImage.arch}, the ${config.lab.arch} guest needs one built for ${arch}`);
  }
  await progress.step('host packages for QEMU', () => ensureQemuHostPackages(progress, arch));
  const recipe = guestRecipe({ ...guestSpecFromConfig(config, arch), containerImages: [containerImage.tag] });
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
  await progress.step(`web-arm: ${containerImage.tag} (${arch}) is in its podman (preloaded in the guest image)`, () =>
    assertContainerImage(plan, containerImage.tag, arch),
  );
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
