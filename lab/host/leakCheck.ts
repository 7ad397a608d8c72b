/**
 * Compares the machine before `up` and after `down`: network namespaces, links, routes and
 * rules in the root namespace, mounts, container cgroups, live processes. Whatever is new
 * afterwards is a leak of the lab.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { succeed } from '../exec.ts';

export interface MachineSnapshot {
  netns: string[];
  links: string[];
  routes: string[];
  rules: string[];
  mounts: string[];
  cgroups: string[];
  processes: Record<string, string>;
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean);
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function liveProcesses(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    const stat = read(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    const cmdline = read(`/proc/${pid}/cmdline`).replaceAll('\0', ' ').trim();
    // Zombies hold nothing but a pid entry (this machine's PID 1 does not reap orphans);
    // kernel threads have no command line.
    if (!cmdline || state === 'Z' || state === 'X') continue;
    out[pid] = cmdline;
  }
  return out;
}

function containerCgroups(): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 3) return;
    let entries: string[] = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return;
    }
    for (const e of entries) {
      if (/^libpod-[0-9a-f]{64}$/.test(e) || e.startsWith('v6lab')) found.push(`${dir}/${e}`);
      else walk(`${dir}/${e}`, depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return found.sort();
}

export async function snapshotMachine(): Promise<MachineSnapshot> {
  const mountPoints = lines(read('/proc/self/mountinfo')).map((l) => l.split(' ')[4] ?? '');
  return {
    netns: lines(await succeed(['ip', 'netns', 'list'])).map((l) => l.split(' ')[0]!),
    links: (JSON.parse(await succeed(['ip', '-j', 'link', 'show'])) as Array<{ ifname: string }>).map((l) => l.ifname),
    routes: [...lines(await succeed(['ip', '-4', 'route', 'show', 'table', 'all'])), ...lines(await succeed(['ip', '-6', 'route', 'show', 'table', 'all']))]
      .map((r) => r.replace(/\s+expires \S+/, '')),
    rules: [...lines(await succeed(['ip', '-4', 'rule'])), ...lines(await succeed(['ip', '-6', 'rule']))],
    mounts: mountPoints,
    cgroups: containerCgroups(),
    processes: liveProcesses(),
  };
}

export interface Leak {
  kind: string;
  what: string;
}

/**
 * What `after` has that `before` had not. Processes that are this process or run under it
 * (the test runner's own children) are not the lab's.
 */
export function findLeaks(before: MachineSnapshot, after: MachineSnapshot, ignorePids: Set<string> = new Set()): Leak[] {
  const leaks: Leak[] = [];
  const added = (kind: string, a: string[], b: string[]) => {
    for (const x of b) if (!a.includes(x)) leaks.push({ kind, what: x });
  };
  added('netns', before.netns, after.netns);
  added('link', before.links, after.links);
  added('route', before.routes, after.routes);
  added('rule', before.rules, after.rules);
  added('mount', before.mounts, after.mounts);
  added('cgroup', before.cgroups, after.cgroups);
  for (const [pid, cmd] of Object.entries(after.processes)) {
    if (before.processes[pid] === cmd || ignorePids.has(pid)) continue;
    leaks.push({ kind: 'process', what: `${pid} ${cmd}` });
  }
  return leaks;
}

/** This process and its descendants (they belong to the caller, not to the lab). */
export function ownProcessTree(root: string = String(process.pid)): Set<string> {
  const parents = new Map<string, string>();
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    const stat = read(`/proc/${pid}/stat`);
    const ppid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
    if (ppid) parents.set(pid, ppid);
  }
  const mine = new Set<string>([root, String(process.pid)]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parents) {
      if (!mine.has(pid) && mine.has(ppid)) {
        mine.add(pid);
        grew = true;
      }
    }
  }
  return mine;
}
