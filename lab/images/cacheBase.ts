/**
 * Where the lab keeps what it builds once per machine (images, guest images, the engine's
 * storage, Node's compile cache): `$V6LAB_CACHE_DIR`, else `$XDG_CACHE_HOME/v6lab`, else
 * `~/.cache/v6lab`. Pure (reads the environment) and imports nothing of the lab: the CLI's entry
 * point loads it before Node's compile cache is on (lab/cli/compileCache.mjs).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheBase(env: NodeJS.ProcessEnv = process.env): string {
  return env.V6LAB_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'v6lab');
}
