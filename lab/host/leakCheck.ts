/**
 * Compares the machine before `up` and after `down`: network namespaces, links, routes and
 * rules in the root namespace, mounts, container cgroups, live processes. Whatever is new
 * afterwards is a leak of the lab.
 */
import { dirname } from 'node:path';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { run, succeed } from '../exec.ts';
import { podmanEngineCli } from '../engine/engine.ts';
import { LABEL_LAB, labHash as labHashOf } from '../topology/plan.ts';
import { LAB_CLI, LAB_CLI_COMMAND } from '../cli/entry.ts';

export interface MachineSnapshot {
  netns: string[];
  links: string[];
  routes: string[];
  rules: string[];
  mounts: string[];
  cgroups: string[];
  processes: Record<string, string>;
  /** Containers in the store of the podman engine the lab starts (names), and in web-arm stores. */
  containers: string[];
  /** pid or cgroup path → the lab it belongs to, when its marks say so. */
  owners: Record<string, string>;
}

const LAB_MARKS = [/v6lab-([a-z][a-z0-9]*)-/, /\/run\/v6lab\/([a-z][a-z0-9]*)\//, /\.lab\/([a-z][a-z0-9]*)\//, /--name ([a-z][a-z0-9]*)/, /V6LAB_LAB=([a-z][a-z0-9]*)/];

/** Programs the lab starts, directly or through podman. */
const LAB_PROGRAMS = /(^|\/)(podman|conmon|netavark|aardvark-dns|runc|crun|catatonit|tcpdump|dnsmasq|radvd|nsenter|unshare|mmdebstrap|qemu-system-[a-z0-9_]+)( |$)|sleep infinity|v6lab-responder|lab\/cli\/(main\.ts|lab\.mjs)/;

/** The lab a text (command line, environment, path) names by one of the lab's marks. */
export function labOfText(text: string): string | undefined {
  for (const mark of LAB_MARKS) {
    const m = mark.exec(text);
    if (m) return m[1];
  }
  return undefined;
}

function netnsOwners(): Map<string, string> {
  const owners = new Map<string, string>();
  try {
    for (const name of readdirSync('/run/netns')) {
      const lab = labOfText(`${name}-`);
      if (!lab) continue;
      const m = /net:\[(\d+)\]/.exec(`net:[${statInode(`/run/netns/${name}`)}]`);
      if (m) owners.set(m[1]!, lab);
    }
  } catch {
    // no /run/netns
  }
  return owners;
}

function statInode(path: string): string {
  try {
    return String(statSync(path).ino);
  } catch {
    return '';
  }
}

function processOwner(pid: string, byNetns: Map<string, string>): string | undefined {
  const text = `${read(`/proc/${pid}/cmdline`).replaceAll('\0', ' ')} ${read(`/proc/${pid}/environ`).replaceAll('\0', ' ')}`;
  const byText = labOfText(text);
  if (byText) return byText;
  // A container's root filesystem in a lab's storage (the machine's own mount table lists every
  // lab's namespace files, so only the storage path counts here).
  const storage = /\.lab\/([a-z][a-z0-9]*)\/web-arm\/storage/.exec(read(`/proc/${pid}/mountinfo`));
  if (storage) return storage[1];
  try {
    const m = /\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/net`));
    return m ? byNetns.get(m[1]!) : undefined;
  } catch {
    return undefined;
  }
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

/**
 * Containers the lab-started engine's store holds (podman's CLI reads the store without the
 * service): their names, and the lab each belongs to by its label, by full ID.
 */
async function engineContainers(): Promise<{ names: string[]; labs: Record<string, string> }> {
  const cli = podmanEngineCli();
  if (!cli) return { names: [], labs: {} };
  const result = await run(
    // In a private mount namespace (cli.argv): podman's overlay driver mounts its home on itself.
    [...cli.argv, 'ps', '-a', '--no-trunc', '--format', `{{.Names}} {{.ID}} {{index .Labels "${LABEL_LAB}"}}`],
    { env: cli.env, allowFailure: true, timeoutMs: 30_000 },
  );
  const rows = lines(result.stdout).map((l) => l.split(' '));
  return { names: rows.map((r) => r[0]!), labs: Object.fromEntries(rows.filter((r) => r[1] && r[2] && r[2] !== '<no value>').map((r) => [r[1]!, r[2]!])) };
}

/**
 * A build in progress (a guest image, a snapshot, an image tarball) works in `<name>.partial-<pid>`:
 * its mounts (the chroot's /proc, /sys, /dev) belong to the lab of the process building it. Pure.
 */
export function partialBuildOwners(mounts: readonly string[], owners: Readonly<Record<string, string>>): Record<string, string> {
  const found: Record<string, string> = {};
  for (const mount of mounts) {
    const pid = /\.partial-(\d+)(\/|\.|$)/.exec(mount)?.[1];
    const owner = pid ? owners[pid] : undefined;
    if (owner) found[mount] = owner;
  }
  return found;
}

export async function snapshotMachine(): Promise<MachineSnapshot> {
  const mountPoints = lines(read('/proc/self/mountinfo')).map((l) => l.split(' ')[4] ?? '');
  const processes = liveProcesses();
  const byNetns = netnsOwners();
  const owners: Record<string, string> = {};
  for (const pid of Object.keys(processes)) {
    const owner = processOwner(pid, byNetns);
    if (owner) owners[pid] = owner;
  }
  Object.assign(owners, partialBuildOwners(mountPoints, owners));
  const cgroups = containerCgroups();
  const engine = await engineContainers();
  for (const cgroup of cgroups) {
    const pids = lines(read(`${cgroup}/cgroup.procs`));
    // Its processes' lab, or the label of the engine's container it is (libpod-<id>: empty while the container starts or stops).
    const owner = pids.map((p) => owners[p]).find(Boolean) ?? engine.labs[/libpod-([0-9a-f]{64})$/.exec(cgroup)?.[1] ?? ''];
    if (owner) owners[cgroup] = owner;
  }
  return {
    containers: engine.names,
    netns: lines(await succeed(['ip', 'netns', 'list'])).map((l) => l.split(' ')[0]!),
    links: (JSON.parse(await succeed(['ip', '-j', 'link', 'show'])) as Array<{ ifname: string }>).map((l) => l.ifname),
    routes: [...lines(await succeed(['ip', '-4', 'route', 'show', 'table', 'all'])), ...lines(await succeed(['ip', '-6', 'route', 'show', 'table', 'all']))]
      .map((r) => r.replace(/\s+expires \S+/, '')),
    rules: [...lines(await succeed(['ip', '-4', 'rule'])), ...lines(await succeed(['ip', '-6', 'rule']))],
    mounts: mountPoints,
    cgroups,
    processes,
    owners,
  };
}

export interface Leak {
  kind: string;
  what: string;
}

export interface LeakOptions {
  /** Processes of the caller (the test runner), not of any lab. */
  ignorePids?: Set<string>;
  /** Only count what is not another lab's: things marked with another lab's name are left out. */
  lab?: string;
}

/**
 * What `after` has that `before` had not. With `lab`, what another lab (running at the same
 * time, e.g. on a developer's machine) owns by its marks is not counted.
 */
export function findLeaks(before: MachineSnapshot, after: MachineSnapshot, options: LeakOptions = {}): Leak[] {
  const leaks: Leak[] = [];
  const otherLab = (text: string, key = text) => {
    if (!options.lab) return false;
    const owner = after.owners[key] ?? labOfText(`${text}/`);
    return owner !== undefined && owner !== options.lab;
  };
  const added = (kind: string, a: string[], b: string[]) => {
    for (const x of b) if (!a.includes(x) && !otherLab(x)) leaks.push({ kind, what: x });
  };
  added('netns', before.netns, after.netns.map((n) => n));
  added('link', before.links, after.links.filter((l) => !(options.lab && /^v6l[0-9a-f]{10}/.test(l) && !l.startsWith(`v6l${labHashOf(options.lab)}`))));
  added('route', before.routes, after.routes);
  added('rule', before.rules, after.rules);
  added('mount', before.mounts, after.mounts);
  added('cgroup', before.cgroups, after.cgroups);
  added('container', before.containers ?? [], after.containers ?? []);
  for (const [pid, cmd] of Object.entries(after.processes)) {
    if (before.processes[pid] === cmd || options.ignorePids?.has(pid) || otherLab(cmd, pid)) continue;
    // With a lab named, a new process counts when its marks say it is that lab's, or when it
    // runs one of the programs a lab starts (a developer's shell or editor is not a leak).
    if (options.lab && after.owners[pid] !== options.lab && !LAB_PROGRAMS.test(cmd)) continue;
    // With a lab named, the CLI of another checkout of v6lab (another developer's run) is not this lab's.
    if (options.lab && after.owners[pid] !== options.lab && isOtherCheckoutsCli(cmd)) continue;
    leaks.push({ kind: 'process', what: `${pid} ${cmd}` });
  }
  return leaks;
}

/** A command line running the lab CLI (lab/cli/lab.mjs or main.ts) of another checkout than the one of `thisCli` (a file of this checkout's lab/cli/). Pure. */
export function isOtherCheckoutsCli(cmd: string, thisCli: string = LAB_CLI): boolean {
  return LAB_CLI_COMMAND.test(cmd) && !cmd.includes(`${dirname(thisCli)}/`);
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
