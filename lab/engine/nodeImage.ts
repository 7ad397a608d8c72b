/**
 * The node image in the host engine: `FROM scratch` + the cached rootfs tarball, built through
 * testcontainers once per recipe hash (never pulled: no registry is reachable).
 */
import { linkSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Progress } from '../progress.ts';
import type { Engine } from './engine.ts';
import { loadTestcontainers } from './testcontainers.ts';

export async function ensureEngineImage(engine: Engine, tag: string, rootfsTarball: string, progress: Progress): Promise<void> {
  try {
    await engine.docker.getImage(tag).inspect();
    return;
  } catch {
    // not there yet: build it
  }
  await progress.step(`build image ${tag} in the engine (FROM scratch + rootfs)`, async () => {
    const context = mkdtempSync(join(tmpdir(), 'v6lab-image-'));
    try {
      try {
        linkSync(rootfsTarball, join(context, 'rootfs.tar'));
      } catch {
        copyFileSync(rootfsTarball, join(context, 'rootfs.tar'));
      }
      writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nADD rootfs.tar /\nCMD ["/bin/sleep", "infinity"]\n');
      const { GenericContainer, PullPolicy } = await loadTestcontainers(engine);
      await GenericContainer.fromDockerfile(context)
        .withPullPolicy(PullPolicy.defaultPolicy())
        .withCache(true)
        .build(tag, { deleteOnExit: false });
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  });
}
