/**
 * testcontainers, pointed at the lab's engine. Its environment must be set before its first
 * use: no Ryuk (its image cannot be pulled here; the lab cleans up by label itself), and no
 * gateway guessing (this machine has /.dockerenv).
 */
import type { Engine } from './engine.ts';

export async function loadTestcontainers(engine: Engine) {
  process.env.DOCKER_HOST = `unix://${engine.socketPath}`;
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';
  return import('testcontainers');
}
