/**
 * Mounts the lab makes on the machine: its runtime directory as a private bind mount (needed
 * to persist mount namespaces in files) and those namespace files. Found again by path.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { run, succeed } from '../exec.ts';

/** Mount points (from /proc/self/mountinfo) at or below prefix, deepest first. */
export function mountsUnder(prefix: string): string[] {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  const points = text
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => Boolean(p))
    .map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => p === prefix || p.startsWith(`${prefix}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

export async function ensurePrivateMount(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  if (!mountsUnder(dir).includes(dir)) await succeed(['mount', '--bind', dir, dir]);
  await succeed(['mount', '--make-private', dir]);
}

/** Unmounts everything at or below prefix (lazily, deepest first). Already gone: success. */
export async function unmountUnder(prefix: string): Promise<string[]> {
  const points = mountsUnder(prefix);
  for (const point of points) await run(['umount', '-l', point], { allowFailure: true });
  return points;
}
