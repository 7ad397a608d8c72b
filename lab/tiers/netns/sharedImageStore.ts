/**
 * A read-only image store shared by the netns tier's web-arm podmans: the node image is
 * imported once per image (its tag carries the recipe hash) into the cache directory, and each
 * web-arm's storage.conf lists that store in `additionalimagestores`, instead of importing the
 * ~230 MB rootfs into every lab's own storage (7–8 s of every `lab up`).
 *
 * Labs only read it: a container's writable layer, its mounts and every container record stay
 * in the lab's own storage, so labs stay isolated and `lab down` still removes all a lab made.
 * The store is written in a per-process directory (import in a private mount namespace) and
 * renamed into place, so it is complete or absent; it is never changed afterwards and never
 * removed by `lab down` (like the rootfs cache beside it).
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { run } from '../../exec.ts';
import { cacheDir } from '../../images/cache.ts';
import { renderContainersConf, renderStorageConf, type PodmanHostSettings } from '../../podman/hostSettings.ts';
import { isAlive } from '../../host/processes.ts';

/** Where the store for an image lives: one directory per tag (the tag names the recipe hash). */
export function sharedImageStoreDir(tag: string, base = cacheDir()): string {
  return join(base, 'web-arm-images', tag.replace(/[^A-Za-z0-9_.-]+/g, '_'));
}

/** A store is there once its image list exists (it is renamed into place complete). */
export function sharedImageStoreReady(dir: string): boolean {
  return existsSync(join(dir, 'overlay-images', 'images.json'));
}

export interface SharedImageStore {
  dir: string;
  /** Whether this call imported the image (false: it was there already). */
  created: boolean;
}

/** The store holding `tag` (imported from the rootfs tarball when missing). */
export async function ensureSharedImageStore(tag: string, tarball: string, settings: PodmanHostSettings): Promise<SharedImageStore> {
  const dir = sharedImageStoreDir(tag);
  if (sharedImageStoreReady(dir)) return { dir, created: false };
  removeStalePartials(dir);
  const partial = `${dir}.partial-${process.pid}`;
  const graphRoot = join(partial, 'store');
  const conf = join(partial, 'conf');
  for (const d of [graphRoot, conf]) mkdirSync(d, { recursive: true });
  const containersConf = join(conf, 'containers.conf');
  const storageConf = join(conf, 'storage.conf');
  writeFileSync(containersConf, renderContainersConf(settings, { tmpDir: join(partial, 'tmp'), networkConfigDir: join(partial, 'networks') }));
  writeFileSync(storageConf, renderStorageConf(graphRoot, join(partial, 'run')));
  try {
    await run(
      ['unshare', '--mount', '--propagation', 'private', '--', 'podman', 'import', '--change', 'CMD ["/bin/sleep", "infinity"]', tarball, tag],
      { env: { CONTAINERS_CONF: containersConf, CONTAINERS_STORAGE_CONF: storageConf }, timeoutMs: 5 * 60_000 },
    );
    try {
      renameSync(graphRoot, dir);
    } catch (error) {
      // Another lab put the same store in place first: use that one.
      if (!sharedImageStoreReady(dir)) throw error;
      return { dir, created: false };
    }
    return { dir, created: true };
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}

/** Pure: the pid of a partial store's directory name (`<store>.partial-<pid>`), if it is one of dir's. */
export function partialPidOf(store: string, name: string): number | undefined {
  const m = new RegExp(`^${basename(store).replace(/[.]/g, '\\.')}\\.partial-(\\d+)$`).exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Partial stores left by an import that was killed (its process is gone). */
function removeStalePartials(dir: string): void {
  const parent = dirname(dir);
  if (!existsSync(parent)) return;
  for (const name of readdirSync(parent)) {
    const pid = partialPidOf(dir, name);
    if (pid !== undefined && (pid === process.pid || !isAlive(pid))) rmSync(join(parent, name), { recursive: true, force: true });
  }
}
