/**
 * Emulated systemd for web-arm on the netns tier (no systemd there): installs rendered unit
 * files, starts them in unit order (sysinit.target's, then multi-user.target's; units without ordering
 * between them side by side, as systemd does) by running their
 * Exec lines inside web-arm, and switches between configurations like `switch-to-configuration`
 * (new and changed units are (re)started, changed units that say X-ReloadIfChanged are
 * reloaded, unchanged ones are left running, removed ones are stopped).
 *
 * What a unit says is followed where it decides a verdict: Type=oneshot is active once its
 * ExecStart lines ran; Type=simple/exec once its process is spawned; Type=notify as podman's
 * `--sdnotify=conmon` notifies it: once `podman run -d` has the container running (its id from
 * the unit's --cidfile), with conmon as the main process (NotifyAccess=all lets conmon send
 * MAINPID). RuntimeDirectory= is made (in web-arm's own /run) before the start and removed
 * after the stop. Restart=always: a watcher (unitSupervisor.ts) restarts the unit when its main
 * process ends. ExecReload= runs on a reload. TimeoutStartSec=0 means no limit in systemd; here
 * the emulator's own limit (COMMAND_LIMIT_MS) still applies.
 * Runtime state (which units are active) lives under web-arm's /run and dies with a reboot.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabBrokenError } from '../../errors.ts';
import { run, spawnDaemon } from '../../exec.ts';
import { isAlive, killProcesses, terminate } from '../../host/processes.ts';
import type { Progress } from '../../progress.ts';
import type { LabPlan } from '../../topology/plan.ts';
import { planSwitch } from '../../units/diff.ts';
import type { StartResult, SwitchResult, UnitFailure } from '../../units/results.ts';
import { expandExecArgv, splitExecLine } from '../../units/exec-line.ts';
import type { UnitSpec } from '../../units/model.ts';
import { bootOrder, bootWaves, stopOrder, stopWaves } from '../../units/order.ts';
import { parseUnit } from '../../units/parse.ts';
import { renderUnit } from '../../units/render.ts';
import { webArmArgv } from './webArm.ts';

export interface ActiveUnit {
  state: 'active' | 'failed';
  startedAt: string;
  /** The main process: a simple service's own, a notify service's conmon. */
  pid?: number;
  /** The Restart= watcher of this unit (unitSupervisor.ts). */
  supervisor?: number;
  /** How often Restart= started it again since it was started. */
  restarts?: number;
  error?: string;
}

type ActiveMap = Record<string, ActiveUnit>;

/** The emulator's limit on one start or stop command, also where systemd has none (TimeoutStartSec=0). */
export const COMMAND_LIMIT_MS = 10 * 60_000;

/** systemd's default TimeoutStartSec=/TimeoutStopSec= (DefaultTimeoutStartSec=90s). */
const DEFAULT_TIMEOUT_S = 90;

function timeoutMs(seconds: number | undefined): number {
  if (seconds === undefined) return DEFAULT_TIMEOUT_S * 1000;
  if (seconds === 0 || seconds === Infinity) return COMMAND_LIMIT_MS;
  return Math.min(seconds * 1000, COMMAND_LIMIT_MS);
}

function unitDir(plan: LabPlan): string {
  return join(plan.webArm.etcDir, 'systemd', 'system');
}

function activeFile(plan: LabPlan): string {
  return join(plan.webArm.runDir, 'systemd', 'active.json');
}

export function readActive(plan: LabPlan): ActiveMap {
  try {
    return JSON.parse(readFileSync(activeFile(plan), 'utf8')) as ActiveMap;
  } catch {
    return {};
  }
}

function writeActive(plan: LabPlan, active: ActiveMap): void {
  const file = activeFile(plan);
  mkdirSync(dirname(file), { recursive: true });
  // Whole or not at all: the Restart= watchers read it while the runner writes it.
  writeFileSync(`${file}.${process.pid}.tmp`, `${JSON.stringify(active, null, 2)}\n`);
  renameSync(`${file}.${process.pid}.tmp`, file);
}

/** Changes one unit's entry (read, change, write at once: other processes keep theirs). */
function updateActive(plan: LabPlan, name: string, entry: ActiveUnit | undefined): void {
  const active = readActive(plan);
  if (entry) active[name] = entry;
  else delete active[name];
  writeActive(plan, active);
}

/** Installed unit files: name → text. */
export function installedUnits(plan: LabPlan): Map<string, string> {
  const dir = unitDir(plan);
  const units = new Map<string, string>();
  if (!existsSync(dir)) return units;
  for (const name of readdirSync(dir).sort()) units.set(name, readFileSync(join(dir, name), 'utf8'));
  return units;
}

function parsedUnits(units: Map<string, string>): UnitSpec[] {
  return [...units].map(([name, text]) => parseUnit(name, text));
}

/** Writes files into web-arm's /etc (relative paths). */
export function writeEtcFiles(plan: LabPlan, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    const target = join(plan.webArm.etcDir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content, { mode: path.endsWith('.sh') ? 0o755 : 0o644 });
  }
}

async function runExecLines(plan: LabPlan, unit: UnitSpec, lines: string[], phase: string, limitMs: number): Promise<void> {
  for (const line of lines) {
    const exec = splitExecLine(line, `${unit.name} ${phase}`);
    const argv = exec.expandEnvironment ? expandExecArgv(exec.argv, unit.service.environment) : exec.argv;
    const env = Object.entries(unit.service.environment).map(([k, v]) => `${k}=${v}`);
    const result = await run(webArmArgv(plan, [...(env.length ? ['env', ...env] : []), ...argv]), {
      timeoutMs: limitMs,
      allowFailure: true,
    });
    if (result.exitCode !== 0 && !exec.ignoreFailure) {
      throw new LabBrokenError(
        `web-arm: ${unit.name} failed in ${phase} (exit ${result.exitCode}): ${line}\n${(result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n')}`,
      );
    }
  }
}

/** RuntimeDirectory=: made before the start, in web-arm's own /run (webArm.ts). */
async function makeRuntimeDirectory(plan: LabPlan, unit: UnitSpec): Promise<void> {
  const dir = unit.service.runtimeDirectory;
  if (dir) await run(webArmArgv(plan, ['mkdir', '-p', '-m', '0755', `/run/${dir}`]));
}

/** RuntimeDirectory=: removed after the stop. */
async function removeRuntimeDirectory(plan: LabPlan, unit: UnitSpec): Promise<void> {
  const dir = unit.service.runtimeDirectory;
  if (dir) await run(webArmArgv(plan, ['rm', '-rf', `/run/${dir}`]), { allowFailure: true });
}

/** The container id file a `podman run` line writes (--cidfile=…), if it has one. */
export function cidFileOf(argv: readonly string[]): string | undefined {
  const at = argv.findIndex((a) => a === '--cidfile' || a.startsWith('--cidfile='));
  if (at < 0) return undefined;
  return argv[at]!.startsWith('--cidfile=') ? argv[at]!.slice('--cidfile='.length) : argv[at + 1];
}

/**
 * Type=notify as podman's --sdnotify=conmon makes it: the start command (`podman run -d …`)
 * returns once the container runs; conmon, which watches it, is the main process. Returns its pid.
 */
async function startNotify(plan: LabPlan, unit: UnitSpec, limitMs: number): Promise<number> {
  const line = unit.service.execStart[0];
  if (!line) throw new LabBrokenError(`web-arm: ${unit.name} has no ExecStart`);
  const argv = splitExecLine(line, `${unit.name} ExecStart`).argv;
  const cidFile = cidFileOf(argv);
  if (!cidFile || !argv.includes('--sdnotify=conmon')) {
    throw new LabBrokenError(
      `web-arm: ${unit.name} is Type=notify, which the netns tier's emulated systemd runs only for \`podman run --sdnotify=conmon --cidfile=…\` (conmon notifies once the container runs)`,
    );
  }
  await runExecLines(plan, unit, [line], 'ExecStart', limitMs);
  const inspect = await run(webArmArgv(plan, ['sh', '-c', `podman inspect --format '{{.State.ConmonPid}} {{.State.Running}}' "$(cat ${cidFile})"`]), { allowFailure: true });
  const [pid, running] = inspect.stdout.trim().split(/\s+/);
  if (inspect.exitCode !== 0 || running !== 'true' || !Number(pid)) {
    throw new LabBrokenError(`web-arm: ${unit.name}: the container did not come up running (podman inspect: ${(inspect.stdout || inspect.stderr).trim()})`);
  }
  return Number(pid);
}

/** What a start runs (RuntimeDirectory=, ExecStartPre=, then ExecStart= by Type=); the entry of the running unit. */
async function startMain(plan: LabPlan, unit: UnitSpec): Promise<ActiveUnit> {
  const limitMs = timeoutMs(unit.service.timeoutStartSec);
  await makeRuntimeDirectory(plan, unit);
  await runExecLines(plan, unit, unit.service.execStartPre, 'ExecStartPre', limitMs);
  const entry: ActiveUnit = { state: 'active', startedAt: new Date().toISOString() };
  if (unit.service.type === 'oneshot') {
    await runExecLines(plan, unit, unit.service.execStart, 'ExecStart', limitMs);
  } else if (unit.service.type === 'notify') {
    entry.pid = await startNotify(plan, unit, limitMs);
  } else {
    const line = unit.service.execStart[0];
    if (!line) throw new LabBrokenError(`web-arm: ${unit.name} has no ExecStart`);
    const exec = splitExecLine(line, `${unit.name} ExecStart`);
    entry.pid = spawnDaemon(webArmArgv(plan, exec.argv), { logFile: unitLogFile(plan, unit.name) });
  }
  return entry;
}

/** What a stop runs (ExecStop=, the main process ended, ExecStopPost=, RuntimeDirectory= removed). */
async function stopMain(plan: LabPlan, unit: UnitSpec, pid: number | undefined): Promise<void> {
  const limitMs = timeoutMs(unit.service.timeoutStopSec);
  await runExecLines(plan, unit, unit.service.execStop, 'ExecStop', limitMs).catch(() => undefined);
  if (pid !== undefined) await terminate(pid);
  await runExecLines(plan, unit, unit.service.execStopPost, 'ExecStopPost', limitMs).catch(() => undefined);
  await removeRuntimeDirectory(plan, unit);
}

/** The log of a unit (its daemon's output, its Restart= watcher's lines). */
export function unitLogFile(plan: LabPlan, unit: string): string {
  const logDir = join(plan.webArm.runDir, 'log');
  mkdirSync(logDir, { recursive: true });
  return join(logDir, `${unit}.log`);
}

/** The file that watches a Restart=always unit (run as `node <file> --name <lab> <unit>`). */
const SUPERVISOR_FILE = fileURLToPath(new URL('./unitSupervisor.ts', import.meta.url));

/** What marks a lab's Restart= watchers on their command line. */
export function supervisorMark(plan: LabPlan): string {
  return `unitSupervisor.ts --name ${plan.name} `;
}

/** Ends every Restart= watcher of the lab (before its units' processes are killed: no restarts then). */
export async function killSupervisors(plan: LabPlan): Promise<number> {
  return killProcesses({ cmdlineContains: supervisorMark(plan) });
}

/** Restart= as the emulator follows it: always (a main process that ends is started again). */
function restartsAlways(unit: UnitSpec): boolean {
  return unit.service.restart === 'always' && unit.service.type !== 'oneshot';
}

export async function startUnit(plan: LabPlan, unit: UnitSpec): Promise<void> {
  if (readActive(plan)[unit.name]?.state === 'active') return;
  const entry = await startMain(plan, unit);
  if (restartsAlways(unit)) {
    entry.supervisor = spawnDaemon([process.execPath, SUPERVISOR_FILE, '--name', plan.name, unit.name], { logFile: unitLogFile(plan, unit.name) });
  }
  updateActive(plan, unit.name, entry);
}

export async function stopUnit(plan: LabPlan, unit: UnitSpec): Promise<void> {
  const entry = readActive(plan)[unit.name];
  if (!entry) return;
  // A stop is not a crash: the watcher goes first, so that it restarts nothing.
  if (entry.supervisor !== undefined) await terminate(entry.supervisor);
  if (entry.state === 'failed') {
    await removeRuntimeDirectory(plan, unit);
    updateActive(plan, unit.name, undefined);
    return;
  }
  await stopMain(plan, unit, entry.pid);
  updateActive(plan, unit.name, undefined);
}

/** `systemctl reload <name>`: ExecReload= of an active unit (a unit that is not active is not reloaded). */
export async function reloadUnit(plan: LabPlan, unit: UnitSpec): Promise<void> {
  if (readActive(plan)[unit.name]?.state !== 'active') throw new LabBrokenError(`web-arm: ${unit.name} is not active, so it cannot be reloaded`);
  if (!unit.service.execReload.length) throw new LabBrokenError(`web-arm: ${unit.name} has no ExecReload=`);
  await runExecLines(plan, unit, unit.service.execReload, 'ExecReload', timeoutMs(unit.service.timeoutStartSec));
}

/** systemd's default start limit: StartLimitBurst=5 starts within StartLimitIntervalSec=10s. */
const START_LIMIT = { burst: 5, intervalMs: 10_000 };
/** systemd's default RestartSec=100ms. */
const RESTART_SEC_MS = 100;

/**
 * Restart= after the main process of an active unit ended on its own (called by the unit's
 * watcher): the stop commands, RestartSec=, the start again. Returns false once the unit failed
 * for good (its starts hit the start limit), or when it is no longer this watcher's to restart.
 */
export async function restartAfterExit(plan: LabPlan, name: string, supervisor: number, log: (line: string) => void): Promise<boolean> {
  const unit = parsedUnits(installedUnits(plan)).find((u) => u.name === name);
  const entry = readActive(plan)[name];
  if (!unit || entry?.state !== 'active' || entry.supervisor !== supervisor) return false;
  log(`${name}: main process ${entry.pid ?? '?'} exited; Restart=always: stopping, then starting again`);
  await stopMain(plan, unit, undefined);
  const starts: number[] = [];
  for (;;) {
    await new Promise((r) => setTimeout(r, RESTART_SEC_MS));
    if (readActive(plan)[name]?.supervisor !== supervisor) return false; // stopped meanwhile
    const now = Date.now();
    starts.push(now);
    try {
      const next = await startMain(plan, unit);
      updateActive(plan, name, { ...next, supervisor, restarts: (entry.restarts ?? 0) + 1 });
      log(`${name}: started again (main process ${next.pid ?? '-'})`);
      return true;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`${name}: start failed: ${message}`);
      await stopMain(plan, unit, undefined);
      if (starts.filter((t) => now - t < START_LIMIT.intervalMs).length >= START_LIMIT.burst) {
        updateActive(plan, name, { state: 'failed', startedAt: new Date().toISOString(), error: `start request repeated too quickly: ${message}` });
        log(`${name}: failed (start request repeated too quickly)`);
        return false;
      }
    }
  }
}

/** The main process of an active unit has ended (it is no longer running, or a zombie). */
export function mainProcessEnded(entry: ActiveUnit | undefined): boolean {
  return entry?.state === 'active' && entry.pid !== undefined && !isAlive(entry.pid);
}

function markFailed(plan: LabPlan, name: string, error: string): void {
  const active = readActive(plan);
  active[name] = { state: 'failed', startedAt: new Date().toISOString(), error };
  writeActive(plan, active);
}

/**
 * Starts the named units wave by wave like systemd does: the units of one wave (no ordering
 * between them) side by side, each wave after the one before. A unit that fails is marked failed
 * and the others go on, but a unit whose Requires= failed is not started at all.
 */
async function startInWaves(
  plan: LabPlan,
  byName: Map<string, UnitSpec>,
  waves: string[][],
  progress: Progress,
  beforeStart?: (unit: string) => Promise<void>,
): Promise<StartResult> {
  const result: StartResult = { started: [], failed: [] };
  for (const wave of waves) {
    const outcomes = await Promise.all(wave.map((name) => startOne(plan, byName.get(name)!, progress, beforeStart)));
    wave.forEach((name, i) => {
      const error = outcomes[i];
      if (error === undefined) result.started.push(name);
      else result.failed.push({ unit: name, error });
    });
  }
  return result;
}

/** One unit of a wave: started, or why not (marked failed). */
async function startOne(plan: LabPlan, unit: UnitSpec, progress: Progress, beforeStart?: (unit: string) => Promise<void>): Promise<string | undefined> {
  const failedDependency = unit.requires.find((r) => readActive(plan)[r]?.state === 'failed');
  if (failedDependency) {
    const error = `dependency failed: ${failedDependency}`;
    markFailed(plan, unit.name, error);
    progress.note(`${unit.name}: not started (${error})`);
    return error;
  }
  await beforeStart?.(unit.name);
  try {
    await progress.step(`start ${unit.name}`, () => startUnit(plan, unit));
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    markFailed(plan, unit.name, message);
    return message;
  }
}

/** One unit after another, in the given order. */
function oneByOne(order: readonly string[]): string[][] {
  return order.map((name) => [name]);
}

/**
 * Starts every installed unit a boot starts (sysinit.target's, then multi-user.target's) in unit
 * order, units without ordering between them side by side, as systemd does.
 */
export async function bootUnits(plan: LabPlan, progress: Progress): Promise<StartResult> {
  const units = parsedUnits(installedUnits(plan));
  return startInWaves(plan, new Map(units.map((u) => [u.name, u])), bootWaves(units), progress);
}

/** Stops every active unit in reverse unit order ("shutdown"), units without ordering between them side by side. */
export async function shutdownUnits(plan: LabPlan, progress: Progress): Promise<void> {
  const units = parsedUnits(installedUnits(plan));
  const active = Object.keys(readActive(plan)).filter((n) => units.some((u) => u.name === n));
  const byName = new Map(units.map((u) => [u.name, u]));
  for (const wave of stopWaves(units, active)) {
    await Promise.all(wave.map((name) => progress.step(`stop ${name}`, () => stopUnit(plan, byName.get(name)!))));
  }
}

/**
 * `systemctl restart <name>`: units that are PartOf= it are stopped first and started again
 * after it, in unit order. Returns what failed.
 */
export async function restartUnit(plan: LabPlan, name: string, progress: Progress): Promise<StartResult> {
  const units = parsedUnits(installedUnits(plan));
  const byName = new Map(units.map((u) => [u.name, u]));
  if (!byName.has(name)) throw new LabBrokenError(`web-arm: no unit ${name} is installed`);
  const group = [name, ...units.filter((u) => u.partOf.includes(name)).map((u) => u.name)];
  const running = group.filter((n) => readActive(plan)[n]);
  for (const n of stopOrder(units, running)) {
    await progress.step(`stop ${n}`, () => stopUnit(plan, byName.get(n)!));
  }
  const order = bootOrder(units).filter((n) => group.includes(n));
  return startInWaves(plan, byName, oneByOne(order.includes(name) ? order : [name, ...order]), progress);
}

/** `systemctl stop <name>` (no dependents are touched). */
export async function stopNamedUnit(plan: LabPlan, name: string, progress: Progress): Promise<void> {
  const unit = parsedUnits(installedUnits(plan)).find((u) => u.name === name);
  if (!unit) throw new LabBrokenError(`web-arm: no unit ${name} is installed`);
  await progress.step(`stop ${name}`, () => stopUnit(plan, unit));
}

/** `systemctl start <name>` after its Requires= (only the named unit is started). */
export async function startNamedUnit(plan: LabPlan, name: string, progress: Progress): Promise<StartResult> {
  const units = parsedUnits(installedUnits(plan));
  const byName = new Map(units.map((u) => [u.name, u]));
  if (!byName.has(name)) throw new LabBrokenError(`web-arm: no unit ${name} is installed`);
  return startInWaves(plan, byName, [[name]], progress);
}

/**
 * Installs a new set of units and files like `nixos-rebuild switch`: stops removed units,
 * restarts changed ones, starts added ones (and any wanted unit not running, e.g. a failed
 * one), leaves unchanged running ones alone.
 */
export async function switchUnits(
  plan: LabPlan,
  next: UnitSpec[],
  files: Record<string, string>,
  progress: Progress,
  options: { beforeStart?: (unit: string) => Promise<void>; start?: boolean } = {},
): Promise<SwitchResult> {
  const previousText = installedUnits(plan);
  const previous = parsedUnits(previousText);
  const nextText = new Map(next.map((u) => [u.name, renderUnit(u)]));
  const sw = planSwitch(previousText, nextText);
  const prevByName = new Map(previous.map((u) => [u.name, u]));
  const toStop = [...sw.removed, ...sw.changed].filter((n) => readActive(plan)[n]);
  for (const name of stopOrder(previous, toStop)) {
    await progress.step(`stop ${name}`, () => stopUnit(plan, prevByName.get(name)!));
  }
  writeEtcFiles(plan, files);
  const dir = unitDir(plan);
  mkdirSync(dir, { recursive: true });
  for (const name of sw.removed) rmSync(join(dir, name), { force: true });
  for (const [name, text] of nextText) writeFileSync(join(dir, name), text);
  if (options.start === false) return { ...sw, failed: [] };
  const byName = new Map(next.map((u) => [u.name, u]));
  // A changed unit that says X-ReloadIfChanged is reloaded where it runs (NixOS's firewall), started where it does not.
  const reloadFailures: UnitFailure[] = [];
  for (const name of sw.reloaded) {
    if (readActive(plan)[name]?.state !== 'active') continue;
    try {
      await progress.step(`reload ${name}`, () => reloadUnit(plan, byName.get(name)!));
    } catch (error) {
      reloadFailures.push({ unit: name, error: error instanceof Error ? error.message : String(error) });
    }
  }
  const toStart = new Set([...sw.added, ...sw.changed]);
  const order = bootOrder(next).filter((name) => toStart.has(name) || readActive(plan)[name]?.state !== 'active');
  // A unit that failed before is started again (it is "wanted but not running").
  for (const name of order) if (readActive(plan)[name]?.state === 'failed') await stopUnit(plan, byName.get(name)!);
  const result = await startInWaves(plan, byName, oneByOne(order), progress, options.beforeStart);
  return { ...sw, failed: [...reloadFailures, ...result.failed] };
}
