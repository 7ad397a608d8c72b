/**
 * Builds the node image's rootfs tarball once per recipe hash (the architecture is part of the
 * recipe) and keeps it in the user's cache directory, so a warm `lab up` builds nothing. A
 * recipe for another architecture than this machine's is built the same way, its mmdebstrap
 * run under qemu-user registered privately (buildArch.ts).
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../exec.ts';
import type { Progress } from '../progress.ts';
import { cacheBase } from './cacheBase.ts';
import { buildCommandsFor, withMmdebstrapProgress } from './buildArch.ts';
import { type ImageArch, type ImageRecipe, imageTag, mmdebstrapArgv, recipeHash } from './recipe.ts';

export function cacheDir(): string {
  const base = cacheBase();
  mkdirSync(base, { recursive: true });
  return base;
}

export interface BuiltRootfs {
  hash: string;
  arch: ImageArch;
  /** The image's tag in an engine or a guest's podman (differs by architecture, like the hash). */
  tag: string;
  tarball: string;
  built: boolean;
  /** How long the build took (only when built). */
  buildMs: number | undefined;
}

export async function ensureRootfs(recipe: ImageRecipe, progress: Progress): Promise<BuiltRootfs> {
  const hash = recipeHash(recipe);
  const tag = imageTag(recipe, hash);
  const dir = join(cacheDir(), 'images');
  mkdirSync(dir, { recursive: true });
  const tarball = join(dir, `${recipe.name}-${recipe.arch}-${hash}.tar`);
  if (existsSync(tarball) && statSync(tarball).isFile()) return { hash, arch: recipe.arch, tag, tarball, built: false, buildMs: undefined };
  const build = await buildCommandsFor(recipe.arch, progress);
  // mmdebstrap picks its output format from the name: keep the .tar ending.
  const partial = join(dir, `${recipe.name}-${recipe.arch}-${hash}.partial-${process.pid}.tar`);
  const expect = build.foreign ? ', emulated: ~10–15 min' : '';
  const started = performance.now();
  await progress.step(`build ${recipe.name} rootfs (${recipe.suite} ${recipe.arch}, mmdebstrap${expect}; cached as ${hash})`, async () => {
    if (build.foreign) progress.note(`${recipe.arch} binaries run ${build.how}`);
    try {
      await withMmdebstrapProgress(progress, (onLine) => run(build.wrap(mmdebstrapArgv(recipe, partial)), { timeoutMs: 40 * 60_000, onLine }));
      renameSync(partial, tarball);
    } finally {
      rmSync(partial, { force: true, recursive: true });
    }
  });
  return { hash, arch: recipe.arch, tag, tarball, built: true, buildMs: Math.round(performance.now() - started) };
}
