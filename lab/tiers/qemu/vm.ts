/**
 * Boots web-arm as a QEMU guest. QEMU runs inside a network namespace of the lab (for now the
 * stand-in of the upstream router's namespace, `v6lab-<lab>-qemu-router`) that holds the tap
 * backing the guest's only NIC, so nothing the guest sends can reach the machine's own
 * interfaces. The guest is driven through its agent (no second NIC); its serial console goes
 * to a log file. Everything carries the lab's mark and is removed by mark.
 */
import type { ConsoleAbility } from '../tier.ts';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname } from 'node:path';
import { CommandError, LabBrokenError, TeardownError } from '../../errors.ts';
import { nsenterArgv, run, spawnDaemon, succeed } from '../../exec.ts';
import { findProcesses, killProcesses } from '../../host/processes.ts';
import { createNetns, deleteNetns, ipIn, netnsPath } from '../../links/netns.ts';
import type { Progress } from '../../progress.ts';
import { waitUntil } from '../../wait.ts';
import { GuestAgent } from './agent.ts';
import {
  type Accel,
  type AccelChoice,
  accelWithoutProbe,
  DEFAULT_GUEST_MEMORY_MIB,
  kvmProbeArgv,
  kvmProbeWorked,
  migrateFromFileUri,
  qemuArgv,
  vmRunFiles,
  vmSpec,
} from './argv.ts';
import { hostArch } from '../../images/foreign.ts';
import { createOverlay, type GuestImage } from './image.ts';
import { QmpClient, QmpError } from './qmp.ts';
import type { GuestArch } from './recipe.ts';

export interface VmNames {
  lab: string;
  name: string;
  /** The namespace QEMU runs in and the tap lives in. */
  netns: string;
  /** The tap, named after the guest as the router's link to it is. */
  tap: string;
  runDir: string;
  /** Mark in QEMU's command line (`-name …,process=<mark>`). */
  processMark: string;
  /** Whether the VM made the namespace (a stand-alone VM) or uses the lab's router's (then only the tap is the VM's). */
  ownsNetns: boolean;
}

/**
 * Names of a VM. Stand-alone, it gets a namespace of its own; in a lab, `router` names the
 * upstream router's namespace and its port, so the tap is the router's link to web-arm.
 */
export function vmNames(lab: string, name = 'web-arm', router?: { netns: string; port: string }): VmNames {
  return {
    lab,
    name,
    netns: router?.netns ?? `v6lab-${lab}-qemu-router`,
    tap: (router?.port ?? name).slice(0, 15),
    runDir: `/run/v6lab/${lab}/qemu/${name}`,
    processMark: `v6lab-${lab}-${name}`,
    ownsNetns: router === undefined,
  };
}

/** The router's end of the guest's link, when the namespace should answer for it. */
export interface LinkPeer {
  mac: string;
  /** fe80::1: the guest's IPv6 gateway. */
  linkLocal: string;
  /** 172.31.1.1: the guest's IPv4 gateway. */
  ipv4Gateway: string;
  /** The guest's /64, on-link (resolved by neighbour discovery, as at Hetzner). */
  guestPrefix6: string;
  /** The guest's IPv4 /32. */
  guestAddress4: string;
}

export interface VmOptions {
  names: VmNames;
  image: GuestImage;
  mac: string;
  memoryMiB?: number;
  peer?: LinkPeer;
  /** Where the serial console log goes (default: the run directory). */
  consoleLog?: string;
  /** The tap's MAC (the router's MAC as the guest sees it) when no peer is given. */
  tapMac?: string;
  /** The accelerator, when already chosen (else chosen here). */
  accel?: AccelChoice;
  /** Start from a saved state: the disk as it was then (the overlay's backing file) and the state file. */
  restoreFrom?: { disk: string; state: string };
}

export interface RunningVm {
  names: VmNames;
  pid: number;
  accel: Accel;
  accelWhy: string;
  agent: GuestAgent;
  consoleLog: string;
  startedAt: number;
}

/**
 * KVM or TCG. A guest of another architecture always runs under TCG. On this kind of machine
 * /dev/kvm exists but hangs with stock guest kernels, so KVM is probed with a short boot and a
 * timeout; the answer is kept in /run (per host kernel and guest kernel). V6LAB_QEMU_ACCEL=tcg|kvm
 * skips the probe.
 */
export async function chooseAccel(arch: GuestArch, kernel: string, progress: Progress): Promise<AccelChoice> {
  const decided = accelWithoutProbe(arch, hostArch(), process.env.V6LAB_QEMU_ACCEL, existsSync('/dev/kvm'));
  if (decided) return decided;
  const key = `${release()}|${kernel}|${statSync(kernel).size}`;
  const cacheFile = '/run/v6lab/qemu-accel.json';
  try {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as { key: string; accel: Accel; why: string };
    if (cached.key === key) return { accel: cached.accel, why: `${cached.why} (probed earlier)` };
  } catch {
    // not probed yet
  }
  const result = await progress.step('probe KVM (a short guest kernel boot, 20 s at most)', async () => {
    try {
      const probe = await run(kvmProbeArgv(kernel, 'v6lab-kvmprobe-qemu'), { timeoutMs: 20_000, allowFailure: true });
      return kvmProbeWorked(probe.stdout, true)
        ? { accel: 'kvm' as const, why: `KVM booted a guest kernel in ${probe.durationMs} ms` }
        : {
            accel: 'tcg' as const,
            why: `KVM probe ended without booting a guest kernel (${probe.signal ? `killed by ${probe.signal}` : `exit ${probe.exitCode}`}${
              probe.stderr.trim() ? `: ${probe.stderr.trim().split('\n')[0]}` : ''
            })`,
          };
    } catch (error) {
      if (error instanceof CommandError && error.timedOut) return { accel: 'tcg' as const, why: 'KVM probe hung (no guest kernel within 20 s)' };
      throw error;
    }
  });
  mkdirSync('/run/v6lab', { recursive: true });
  writeFileSync(cacheFile, `${JSON.stringify({ key, ...result })}\n`);
  return result;
}

/** The tap of a VM in its (or the router's) namespace, with the peer's addresses when given. */
export async function createUplink(names: VmNames, peer: LinkPeer | undefined, tapMac: string | undefined): Promise<void> {
  if (names.ownsNetns) {
    await createNetns(names.netns);
    await succeed(ipIn(names.netns, 'link', 'set', 'lo', 'up'));
  } else if (!existsSync(netnsPath(names.netns))) {
    throw new LabBrokenError(`the router's namespace ${names.netns} is missing: the tap of ${names.name} cannot be created`);
  }
  await run(ipIn(names.netns, 'link', 'del', names.tap), { allowFailure: true });
  await succeed(ipIn(names.netns, 'tuntap', 'add', 'dev', names.tap, 'mode', 'tap'));
  await succeed(ipIn(names.netns, 'link', 'set', names.tap, 'alias', `v6lab:${names.lab}`));
  const mac = peer?.mac ?? tapMac;
  if (mac) await succeed(ipIn(names.netns, 'link', 'set', names.tap, 'address', mac));
  // Only the link-local addresses the router is given (fe80::1), none derived from the MAC.
  await succeed(ipIn(names.netns, 'link', 'set', names.tap, 'addrgenmode', 'none'));
  await succeed(ipIn(names.netns, 'link', 'set', names.tap, 'up'));
  if (peer) {
    await succeed(ipIn(names.netns, '-6', 'addr', 'add', `${peer.linkLocal}/64`, 'dev', names.tap, 'nodad'));
    await succeed(ipIn(names.netns, '-4', 'addr', 'add', `${peer.ipv4Gateway}/32`, 'dev', names.tap));
    await succeed(ipIn(names.netns, '-6', 'route', 'add', peer.guestPrefix6, 'dev', names.tap));
    await succeed(ipIn(names.netns, '-4', 'route', 'add', `${peer.guestAddress4}/32`, 'dev', names.tap));
  }
}

function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function qemuProcesses(names: VmNames): number[] {
  return findProcesses({ cmdlineContains: `process=${names.processMark}` });
}

/**
 * Starts the guest (returns once QEMU runs and its agent socket exists). Booting, the guest
 * still boots; restoring (`restoreFrom`), QEMU loads the saved state and waits paused for QMP
 * `cont` (resumeRestoredVm).
 */
export async function startVm(options: VmOptions, progress: Progress): Promise<RunningVm> {
  const { names, image } = options;
  if (qemuProcesses(names).length) throw new LabBrokenError(`a QEMU for ${names.processMark} is already running: remove it first (destroyVm)`);
  const { accel, why } = options.accel ?? (await chooseAccel(image.arch, image.kernel, progress));
  progress.note(`accelerator: ${accel} (${why})`);
  rmSync(names.runDir, { recursive: true, force: true });
  mkdirSync(names.runDir, { recursive: true });
  const files = vmRunFiles(names.runDir);
  const consoleLog = options.consoleLog ?? files.consoleLog;
  rmSync(consoleLog, { force: true });
  await progress.step(`uplink: tap ${names.tap} in ${names.netns}`, () => createUplink(names, options.peer, options.tapMac));
  // A thin overlay: on the read-only base image, or on the disk as it was when the state was saved.
  await createOverlay(options.restoreFrom?.disk ?? image.base, files.disk);
  const argv = qemuArgv(
    image.arch,
    vmSpec({
      name: names.name,
      processName: names.processMark,
      arch: image.arch,
      accel,
      memoryMiB: options.memoryMiB ?? DEFAULT_GUEST_MEMORY_MIB,
      kernel: image.kernel,
      initrd: image.initrd,
      runDir: names.runDir,
      tap: names.tap,
      mac: options.mac,
      consoleLog,
      ...(options.restoreFrom ? { incoming: migrateFromFileUri(options.restoreFrom.state) } : {}),
    }),
  );
  const startedAt = performance.now();
  const pid = spawnDaemon(nsenterArgv({ net: netnsPath(names.netns) }, argv), { logFile: files.qemuLog });
  await waitUntil(
    `QEMU of ${names.processMark} to open its agent socket`,
    async () => {
      if (existsSync(files.agentSocket)) return true;
      if (qemuProcesses(names).length === 0) {
        throw new LabBrokenError(`QEMU exited at start:\n${tail(files.qemuLog)}`);
      }
      return undefined;
    },
    { timeoutMs: 15_000, intervalMs: 100 },
  ).catch((error: unknown) => {
    throw new LabBrokenError(`QEMU for ${names.processMark} did not start: ${(error as Error).message}\n${tail(files.qemuLog)}`, { cause: error });
  });
  return { names, pid, accel, accelWhy: why, agent: new GuestAgent(names.name, files.agentSocket), consoleLog, startedAt };
}

/** The last lines QEMU itself wrote (its stderr: why a migration or a start failed). */
export function qemuLogTail(names: VmNames, lines = 20): string {
  return tail(vmRunFiles(names.runDir).qemuLog, lines);
}

/** Whether a QEMU of this VM runs. */
export function vmRunning(names: VmNames): boolean {
  return qemuProcesses(names).length > 0;
}

/**
 * A QMP client on the VM's monitor socket (close it when done: the socket serves one client).
 * Retries while QEMU runs but does not listen yet; fails at once when QEMU is gone.
 */
export async function vmMonitor(names: VmNames, timeoutMs = 10_000): Promise<QmpClient> {
  const socket = vmRunFiles(names.runDir).qmpSocket;
  let gone: Error | undefined;
  const client = await waitUntil(
    `QMP of ${names.processMark} to answer on ${socket}`,
    async () => {
      try {
        return await QmpClient.connect(names.name, socket, Math.min(timeoutMs, 5_000));
      } catch (error) {
        if (vmRunning(names)) throw error;
        gone = new QmpError(`QEMU of ${names.processMark} is not running (${(error as Error).message})${qemuLogTail(names, 5) ? `:\n${qemuLogTail(names, 5)}` : ''}`);
        return 'gone' as const;
      }
    },
    { timeoutMs, intervalMs: 100 },
  );
  if (client === 'gone') throw gone!;
  return client;
}

/** The version QEMU reports for a guest architecture (`qemu-system-… --version`, first line). */
export async function qemuVersion(arch: GuestArch): Promise<string> {
  const argv = qemuArgv(arch, vmSpec({ name: '', processName: '', arch, accel: 'tcg', memoryMiB: 0, kernel: '', initrd: '', runDir: '', tap: '', mac: '' }));
  return (await succeed([argv[0]!, '--version'])).split('\n')[0]!.trim();
}

/** Powers the guest off through its agent and waits for QEMU to exit; kills it if it does not. */
export async function powerOffVm(vm: RunningVm, timeoutMs = 120_000): Promise<{ clean: boolean }> {
  let clean = true;
  try {
    await vm.agent.shutdown('powerdown');
    await waitUntil(`QEMU of ${vm.names.processMark} to exit after the guest powered off`, async () => qemuProcesses(vm.names).length === 0, {
      timeoutMs,
      intervalMs: 250,
    });
  } catch {
    clean = false;
  } finally {
    vm.agent.close();
  }
  await destroyVm(vm.names);
  return { clean };
}

/**
 * Removes a VM by its marks: its QEMU processes, the namespace holding its tap (and with it
 * the tap), its run directory. Idempotent; keeps going past failures and reports them together.
 */
export async function destroyVm(names: VmNames): Promise<void> {
  const failures: Error[] = [];
  const attempt = async (fn: () => unknown) => {
    try {
      await fn();
    } catch (error) {
      failures.push(error instanceof Error ? error : new Error(String(error)));
    }
  };
  await attempt(() => killProcesses({ cmdlineContains: `process=${names.processMark}` }));
  if (names.ownsNetns) await attempt(() => deleteNetns(names.netns));
  else if (existsSync(netnsPath(names.netns))) await attempt(() => run(ipIn(names.netns, 'link', 'del', names.tap), { allowFailure: true }));
  await attempt(() => rmSync(names.runDir, { recursive: true, force: true }));
  // The lab's run directory and its qemu/ folder go too when nothing else of the lab is in them.
  for (const dir of [dirname(names.runDir), dirname(dirname(names.runDir))]) {
    try {
      if (existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
    } catch {
      // in use by the rest of the lab
    }
  }
  if (failures.length) throw new TeardownError(failures);
}

export function consoleTail(vm: RunningVm, lines = 30): string {
  return tail(vm.consoleLog, lines);
}

/** A VM's serial console, by its names (the file startVm writes it to by default). */
export function vmConsole(names: VmNames): ConsoleAbility {
  const consolePath = vmRunFiles(names.runDir).consoleLog;
  return { consolePath, consoleTail: (lines) => tail(consolePath, lines) };
}
