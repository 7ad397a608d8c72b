/**
 * Builds web-arm's guest image once per recipe hash: mmdebstrap into a directory (for another
 * architecture than the machine's, under qemu-user registered in a private user namespace:
 * images/buildArch.ts, as for the node image), the recipe's files and chroot commands, the
 * lab's node image (built for the guest's architecture) preloaded into its podman storage, the kernel and initrd copied out for direct kernel
 * boot, an ext4 filesystem populated from the directory (mkfs.ext4 -d, no mount), converted
 * to qcow2. Cached read-only under <cache>/qemu/<hash>/; every VM boots a qcow2 overlay on it.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LabBrokenError } from '../../errors.ts';
import { run, succeed } from '../../exec.ts';
import { ensureHostPackages, type HostRequirements } from '../../host/packages.ts';
import { buildCommandsFor, buildRequirements, withMmdebstrapProgress } from '../../images/buildArch.ts';
import { cacheDir } from '../../images/cache.ts';
import type { Progress } from '../../progress.ts';
import { hostArch } from '../../images/foreign.ts';
import { preloadContainerImages } from './preload.ts';
import { type GuestArch, type GuestRecipe, guestMmdebstrapArgv, guestRecipeHash, mkfsArgv, pickKernel } from './recipe.ts';

const SHARED_REQUIREMENTS: HostRequirements = [
  { path: ['/usr/bin/qemu-img'], pkg: 'qemu-utils' },
  { path: ['/usr/sbin/mkfs.ext4', '/sbin/mkfs.ext4'], pkg: 'e2fsprogs' },
  { path: ['/usr/bin/mmdebstrap'], pkg: 'mmdebstrap' },
  { path: ['/usr/share/keyrings/debian-archive-keyring.gpg'], pkg: 'debian-archive-keyring' },
  { path: ['/usr/bin/ip', '/usr/sbin/ip', '/bin/ip', '/sbin/ip'], pkg: 'iproute2' },
  { path: ['/usr/bin/nsenter'], pkg: 'util-linux' },
];

/** What the machine needs to build and boot a guest of each architecture. */
export const QEMU_HOST_REQUIREMENTS: Record<GuestArch, HostRequirements> = {
  amd64: [{ path: ['/usr/bin/qemu-system-x86_64'], pkg: 'qemu-system-x86' }, ...SHARED_REQUIREMENTS],
  arm64: [{ path: ['/usr/bin/qemu-system-aarch64'], pkg: 'qemu-system-arm' }, ...SHARED_REQUIREMENTS],
};

export function qemuHostRequirements(arch: GuestArch, host: GuestArch | undefined = hostArch()): HostRequirements {
  return [...QEMU_HOST_REQUIREMENTS[arch], ...buildRequirements(arch, host)];
}

export interface GuestImage {
  hash: string;
  arch: GuestArch;
  dir: string;
  /** The read-only qcow2 base. */
  base: string;
  kernel: string;
  initrd: string;
  kernelVersion: string;
  /** Whether this call built it (false: it came from the cache). */
  built: boolean;
  buildMs: number | undefined;
}

interface Manifest {
  hash: string;
  recipe: GuestRecipe;
  kernelVersion: string;
  builtAt: string;
  buildMs: number;
  baseBytes: number;
}

const MANIFEST = 'manifest.json';

export function qemuCacheDir(): string {
  const dir = join(cacheDir(), 'qemu');
  mkdirSync(dir, { recursive: true });
  return dir;
}

function fromManifest(dir: string, built: boolean): GuestImage {
  const manifest = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Manifest;
  return {
    hash: manifest.hash,
    arch: manifest.recipe.arch,
    dir,
    base: join(dir, 'base.qcow2'),
    kernel: join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.img'),
    kernelVersion: manifest.kernelVersion,
    built,
    buildMs: built ? manifest.buildMs : undefined,
  };
}

export function ensureQemuHostPackages(progress: Progress, arch: GuestArch): Promise<string[]> {
  return ensureHostPackages(progress, qemuHostRequirements(arch));
}

/** The cached image of the recipe, built first when it is not there yet. */
/**
 * `tarballs` gives the rootfs tarball of each tag in recipe.containerImages (preloaded into
 * the guest's podman storage).
 */
export async function ensureGuestImage(recipe: GuestRecipe, progress: Progress, tarballs: Record<string, string> = {}): Promise<GuestImage> {
  const hash = guestRecipeHash(recipe);
  const dir = join(qemuCacheDir(), hash);
  if (existsSync(join(dir, MANIFEST))) return fromManifest(dir, false);
  await ensureQemuHostPackages(progress, recipe.arch);
  const guest = await buildCommandsFor(recipe.arch, progress);
  const work = join(qemuCacheDir(), `${hash}.partial-${process.pid}`);
  const started = performance.now();
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    await progress.step(`build ${recipe.name} guest image (${recipe.suite} ${recipe.arch}, mmdebstrap; cached as ${hash})`, async () => {
      const rootfs = join(work, 'rootfs');
      if (guest.foreign) progress.note(`${recipe.arch} guest binaries run ${guest.how}`);
      const expect = guest.foreign ? '~13–17 min, emulated' : '~1 min';
      await progress.step(`mmdebstrap rootfs (${expect})`, () =>
        withMmdebstrapProgress(progress, (onLine) => run(guest.wrap(guestMmdebstrapArgv(recipe, rootfs)), { timeoutMs: 40 * 60_000, onLine })),
      );
      await progress.step('bake in guest configuration', () => bakeConfiguration(recipe, rootfs, guest.wrap));
      if (recipe.containerImages.length) {
        const images = recipe.containerImages.map((tag) => {
          const tarball = tarballs[tag];
          if (!tarball) throw new LabBrokenError(`no rootfs tarball given for the preloaded container image ${tag}`);
          return { tag, tarball };
        });
        await progress.step(`preload ${recipe.containerImages.join(', ')} (${recipe.arch}) into the guest's podman storage`, () =>
          preloadContainerImages(rootfs, images, recipe.arch),
        );
      }
      const kernel = pickKernel(readdirSync(join(rootfs, 'boot')));
      if (!kernel) throw new LabBrokenError(`no kernel with an initrd in ${join(rootfs, 'boot')} (is linux-image-cloud-${recipe.arch} in the recipe?)`);
      copyFileSync(join(rootfs, 'boot', kernel.kernel), join(work, 'vmlinuz'));
      copyFileSync(join(rootfs, 'boot', kernel.initrd), join(work, 'initrd.img'));
      const raw = join(work, 'root.ext4');
      await progress.step('ext4 filesystem from the rootfs', async () => {
        await run(mkfsArgv(rootfs, raw, recipe.diskSizeMiB), { timeoutMs: 10 * 60_000 });
        rmSync(rootfs, { recursive: true, force: true });
      });
      const base = join(work, 'base.qcow2');
      await progress.step('convert to qcow2', async () => {
        await run(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', raw, base], { timeoutMs: 10 * 60_000 });
        rmSync(raw, { force: true });
      });
      chmodSync(base, 0o444);
      const manifest: Manifest = {
        hash,
        recipe,
        kernelVersion: kernel.version,
        builtAt: new Date().toISOString(),
        buildMs: Math.round(performance.now() - started),
        baseBytes: statSync(base).size,
      };
      writeFileSync(join(work, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
      rmSync(dir, { recursive: true, force: true });
      renameSync(work, dir);
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return fromManifest(dir, true);
}

async function bakeConfiguration(recipe: GuestRecipe, rootfs: string, wrap: (argv: string[]) => string[]): Promise<void> {
  for (const file of recipe.files) {
    const target = join(rootfs, file.path);
    mkdirSync(dirname(target), { recursive: true });
    rmSync(target, { force: true }); // may be a symlink (e.g. into /run)
    writeFileSync(target, file.content, { mode: file.mode });
    chmodSync(target, file.mode);
  }
  for (const argv of recipe.chrootCommands) {
    await run(wrap(['chroot', rootfs, ...argv]), { timeoutMs: 120_000 });
  }
}

/** A fresh qcow2 overlay for one VM (replaces an old one) on a read-only qcow2: the image's base, or a snapshot's disk. */
export async function createOverlay(backing: string, overlay: string): Promise<void> {
  mkdirSync(dirname(overlay), { recursive: true });
  rmSync(overlay, { force: true });
  await succeed(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', backing, overlay]);
}
