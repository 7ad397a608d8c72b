/**
 * Container images preloaded into the guest image at build time: the machine's own podman
 * imports each rootfs tarball straight into the guest rootfs's containers storage (overlay
 * driver, as the guest's podman uses), so a booted guest has the lab's image without copying
 * hundreds of megabytes through an emulated CPU. Only the storage is kept: the guest's podman
 * makes its own database at first use. The tarballs are built for the guest's architecture and
 * the import records it (`--arch`), so the guest's podman sees an image of its own platform,
 * whatever the architecture of the machine that imported it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabBrokenError } from '../../errors.ts';
import { run } from '../../exec.ts';
import type { GuestArch } from './recipe.ts';

/** Where the guest's podman (root) keeps images: trixie's default graphroot. */
export const GUEST_GRAPH_ROOT = '/var/lib/containers/storage';

/** What the import leaves that belongs to the importing podman, not to the storage. */
const NOT_STORAGE = ['libpod', 'tmp', 'mounts', 'defaultNetworkBackend'];

export function preloadImportArgv(graphRoot: string, runRoot: string, tarball: string, tag: string, arch: GuestArch): string[] {
  return [
    'podman',
    '--root', graphRoot,
    '--runroot', runRoot,
    '--storage-driver', 'overlay',
    '--cgroup-manager', 'cgroupfs',
    '--events-backend', 'file',
    'import', '--os', 'linux', '--arch', arch,
    '--change', 'CMD ["/bin/sleep", "infinity"]',
    tarball, tag,
  ];
}

/** Imports each rootfs tarball (built for `arch`, the guest's) into the guest rootfs's podman storage. */
export async function preloadContainerImages(rootfs: string, images: ReadonlyArray<{ tag: string; tarball: string }>, arch: GuestArch): Promise<void> {
  if (!images.length) return;
  const graphRoot = join(rootfs, GUEST_GRAPH_ROOT);
  const runRoot = mkdtempSync(join(tmpdir(), 'v6lab-preload-'));
  try {
    for (const image of images) {
      const result = await run(preloadImportArgv(graphRoot, runRoot, image.tarball, image.tag, arch), { timeoutMs: 10 * 60_000, allowFailure: true });
      if (result.exitCode !== 0) throw new LabBrokenError(`preloading ${image.tag} into the guest image failed: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }
  } finally {
    rmSync(runRoot, { recursive: true, force: true });
  }
  for (const entry of NOT_STORAGE) rmSync(join(graphRoot, entry), { recursive: true, force: true });
}
