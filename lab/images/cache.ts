/**
 * Builds the node image's rootfs tarball once per recipe hash and keeps it in the user's
 * cache directory, so a warm `lab up` builds nothing.
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { run } from '../exec.ts';
import type { Progress } from '../progress.ts';
import { type ImageRecipe, mmdebstrapArgv, recipeHash } from './recipe.ts';

export function cacheDir(): string {
  const base = process.env.V6LAB_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'v6lab');
  mkdirSync(base, { recursive: true });
  return base;
}

export interface BuiltRootfs {
  hash: string;
  tarball: string;
  built: boolean;
}

export async function ensureRootfs(recipe: ImageRecipe, progress: Progress): Promise<BuiltRootfs> {
  const hash = recipeHash(recipe);
  const dir = join(cacheDir(), 'images');
  mkdirSync(dir, { recursive: true });
  const tarball = join(dir, `${recipe.name}-${hash}.tar`);
  if (existsSync(tarball) && statSync(tarball).isFile()) return { hash, tarball, built: false };
  // mmdebstrap picks its output format from the name: keep the .tar ending.
  const partial = join(dir, `${recipe.name}-${hash}.partial-${process.pid}.tar`);
  await progress.step(`build ${recipe.name} rootfs (${recipe.suite}, mmdebstrap; cached as ${hash})`, async () => {
    try {
      await run(mmdebstrapArgv(recipe, partial), { timeoutMs: 20 * 60_000 });
      renameSync(partial, tarball);
    } finally {
      rmSync(partial, { force: true, recursive: true });
    }
  });
  return { hash, tarball, built: true };
}
