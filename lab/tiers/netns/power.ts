/**
 * web-arm's power cycle on the netns tier. Power on = the kernel comes up (namespaces, uplink,
 * static addressing as NixOS's networking does) and then the installed units start in unit
 * order. Power off = units stop in reverse order, then every process is killed and all kernel
 * and runtime state is destroyed. Persistent state (/etc, podman storage) survives.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../exec.ts';
import {
  configureWebArmNetwork,
  createWebArmNamespaces,
  destroyWebArm,
  waitForDad,
  webArmArgv,
  webArmDocker,
} from './webArm.ts';
import { assertStarted } from '../../units/results.ts';
import { bootUnits, killSupervisors, shutdownUnits } from './unitRunner.ts';
import { wireWebArmUplink } from '../../nodes/wiring.ts';
import type { Progress } from '../../progress.ts';
import type { LabPlan } from '../../topology/plan.ts';
import type { NodeImageRecord } from '../../state/store.ts';
import { waitUntil } from '../../wait.ts';

/** The node image as web-arm's power-on needs it (the lab's one image record). */
export type WebArmImage = Pick<NodeImageRecord, 'tag' | 'tarball'>;

export async function powerOnWebArm(plan: LabPlan, image: WebArmImage, progress: Progress): Promise<void> {
  await progress.step('web-arm: namespaces (net + mount)', () => createWebArmNamespaces(plan));
  // This boot's id, as the kernel's /proc/sys/kernel/random/boot_id is on a real host: in /run,
  // which power-off wipes (a namespace's inode number may come back for the next one).
  writeFileSync(bootIdFile(plan), `${randomUUID()}\n`);
  await ensureWebArmImage(plan, image.tag, image.tarball, progress);
  await progress.step(`web-arm: uplink ${plan.config.webArm.uplink} ↔ upstream`, () => wireWebArmUplink(plan));
  await progress.step('web-arm: static addressing and routes', () => configureWebArmNetwork(plan));
  const boot = await progress.step('web-arm: units (emulated systemd)', () => bootUnits(plan, progress));
  assertStarted(boot, 'web-arm boot');
  // NixOS's networking does not wait for DAD before the units start; the lab's boot is over once
  // the uplink's addresses are no longer tentative (the kernel's DAD ran beside the units).
  await progress.step(`web-arm: DAD on ${plan.config.webArm.uplink} done`, () => waitForDad(plan));
  await waitForPodmanApi(plan);
}

/** Where the emulated boot id of web-arm lives (its /run). */
export function bootIdFile(plan: LabPlan): string {
  return join(plan.webArm.runDir, 'boot_id');
}

export async function powerOffWebArm(plan: LabPlan, progress: Progress): Promise<void> {
  await progress.step('web-arm: stop units', () => shutdownUnits(plan, progress).catch(() => undefined));
  await progress.step('web-arm: kill processes, destroy namespaces, wipe /run', async () => {
    await killSupervisors(plan);
    await destroyWebArm(plan);
  });
}

export async function waitForPodmanApi(plan: LabPlan): Promise<void> {
  const docker = webArmDocker(plan);
  await waitUntil('web-arm podman API', async () => (await docker.ping()) !== undefined, { timeoutMs: 30_000, intervalMs: 100 });
}

/** The node image inside web-arm's podman (kept in its persistent storage, like a preloaded image). */
export async function ensureWebArmImage(plan: LabPlan, tag: string, tarball: string, progress: Progress): Promise<void> {
  const exists = await run(webArmArgv(plan, ['podman', 'image', 'exists', tag]), { allowFailure: true });
  if (exists.exitCode === 0) return;
  await progress.step(`web-arm: import ${tag} into its podman`, () =>
    run(webArmArgv(plan, ['podman', 'import', '--change', 'CMD ["/bin/sleep", "infinity"]', tarball, tag]), { timeoutMs: 5 * 60_000 }),
  );
}
