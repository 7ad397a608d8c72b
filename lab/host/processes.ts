/**
 * Finds and kills processes by the lab's marks: their network or mount namespace, or their
 * cgroup path. Reads /proc directly.
 */
import { readdirSync, readFileSync, readlinkSync, rmdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { waitUntil } from '../wait.ts';

export interface ProcessMark {
  /** Inode of a network namespace file (stat of /run/netns/<name>). */
  netnsInode?: number;
  /** Inode of a mount namespace file. */
  mountNsInode?: number;
  /** A substring of the cgroup path (e.g. "/v6lab.main.web-arm"). */
  cgroupContains?: string;
  /** A substring of the command line. */
  cmdlineContains?: string;
  /** A path that appears in the process's mount table (e.g. a container whose rootfs is in the lab's storage). */
  mountsContain?: string;
}

export function nsInode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

function linkInode(pid: string, ns: 'net' | 'mnt'): number | undefined {
  try {
    const m = /\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${ns}`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function findProcesses(mark: ProcessMark): number[] {
  const self = process.pid;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === self) continue;
    const matches =
      (mark.netnsInode !== undefined && linkInode(entry, 'net') === mark.netnsInode) ||
      (mark.mountNsInode !== undefined && linkInode(entry, 'mnt') === mark.mountNsInode) ||
      (mark.cgroupContains !== undefined && read(`/proc/${entry}/cgroup`).includes(mark.cgroupContains)) ||
      (mark.cmdlineContains !== undefined && read(`/proc/${entry}/cmdline`).replaceAll('\0', ' ').includes(mark.cmdlineContains)) ||
      (mark.mountsContain !== undefined && read(`/proc/${entry}/mountinfo`).includes(mark.mountsContain));
    if (matches) found.push(Number(entry));
  }
  return found;
}

/** True while the process exists and is not a zombie (a dead child not yet reaped). */
export function isAlive(pid: number): boolean {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return false;
  // state is the field after the ")" of the command name; Z = zombie (already dead).
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** The per-container cgroups (…/libpod-<id>) a process sits in, relative to each hierarchy. */
function containerCgroups(pid: number): string[] {
  return read(`/proc/${pid}/cgroup`)
    .split('\n')
    .map((l) => l.split(':').slice(2).join(':'))
    .filter((p) => /\/libpod-[0-9a-f]{64}$/.test(p));
}

/**
 * SIGKILLs every matching process (repeatedly, since forks race) until none is left, then
 * removes the per-container cgroups those processes left behind. Returns how many it killed.
 */
export async function killProcesses(mark: ProcessMark, timeoutMs = 10_000): Promise<number> {
  let killed = 0;
  const cgroups = new Set<string>();
  await waitUntil(
    `processes matching ${JSON.stringify(mark)} to exit`,
    async () => {
      const pids = findProcesses(mark).filter(isAlive);
      for (const pid of pids) {
        for (const c of containerCgroups(pid)) cgroups.add(c);
        try {
          process.kill(pid, 'SIGKILL');
          killed++;
        } catch {
          // already gone
        }
      }
      return pids.length === 0 ? true : undefined;
    },
    { timeoutMs, intervalMs: 50 },
  );
  for (const c of cgroups) removeCgroups(c.replace(/^\//, ''));
  return killed;
}

/** Removes cgroup directories named by the mark in every mounted hierarchy, deepest first. */
export function removeCgroups(name: string): string[] {
  const removed: string[] = [];
  const roots = ['/sys/fs/cgroup'];
  try {
    for (const entry of readdirSync('/sys/fs/cgroup')) roots.push(join('/sys/fs/cgroup', entry));
  } catch {
    return removed;
  }
  for (const root of roots) {
    const dir = join(root, name);
    if (existsSync(dir)) removeTree(dir, removed);
  }
  return removed;
}

function removeTree(dir: string, removed: string[]): void {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return;
  }
  for (const child of entries) removeTree(join(dir, child), removed);
  try {
    rmdirSync(dir);
    removed.push(dir);
  } catch {
    // busy or already gone
  }
}

/** Waits until the process has exited (or is a zombie); throws WaitTimeoutError past timeoutMs. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<void> {
  await waitUntil(`process ${pid} to exit`, async () => !isAlive(pid), { timeoutMs, intervalMs: 50 });
}

/** SIGTERM, then SIGKILL after graceMs if it is still there. */
export async function terminate(pid: number, graceMs = 5000): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  try {
    await waitForExit(pid, graceMs);
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
