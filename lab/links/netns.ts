/**
 * Named network namespaces (under /run/netns, so `ip netns` and tools see them). Created and
 * removed idempotently; the name carries the lab's mark (v6lab-<lab>-…).
 */
import { existsSync, readdirSync } from 'node:fs';
import { nsenterArgv, run, succeed } from '../exec.ts';

export function netnsPath(name: string): string {
  return `/run/netns/${name}`;
}

export async function createNetns(name: string): Promise<void> {
  if (existsSync(netnsPath(name))) return;
  await succeed(['ip', 'netns', 'add', name]);
}

/** Gives a running process's network namespace a name (for containers). */
export async function attachNetns(name: string, pid: number): Promise<void> {
  if (existsSync(netnsPath(name))) await deleteNetns(name);
  await succeed(['ip', 'netns', 'attach', name, String(pid)]);
}

export async function deleteNetns(name: string): Promise<void> {
  if (!existsSync(netnsPath(name))) return;
  await run(['ip', 'netns', 'delete', name], { allowFailure: true });
}

export function listNetns(prefix: string): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith(prefix)).sort();
  } catch {
    return [];
  }
}

/** `ip -n <name> …` */
export function ipIn(ns: string, ...args: string[]): string[] {
  return ['ip', '-n', ns, ...args];
}

/** Writes sysctls inside a namespace (net.* is per namespace). */
export async function sysctlIn(ns: string, values: Record<string, string | number>): Promise<void> {
  const args = Object.entries(values).map(([k, v]) => `${k}=${v}`);
  if (args.length === 0) return;
  await succeed(nsenterArgv({ net: netnsPath(ns) }, ['sysctl', '-q', '-w', ...args]));
}
