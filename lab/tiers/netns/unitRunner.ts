/**
 * Emulated systemd for web-arm on the netns tier (no systemd there): installs rendered unit
 * files, starts them in unit order by running their Exec lines inside web-arm, and switches
 * between configurations like `switch-to-configuration` (new and changed units are
 * (re)started, unchanged ones are left running, removed ones are stopped).
 * Runtime state (which units are active) lives under web-arm's /run and dies with a reboot.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LabBrokenError } from '../../errors.ts';
import { run, spawnDaemon } from '../../exec.ts';
import { terminate } from '../../host/processes.ts';
import type { Progress } from '../../progress.ts';
import type { LabPlan } from '../../topology/plan.ts';
import { planSwitch } from '../../units/diff.ts';
import type { StartResult, SwitchResult } from '../../units/results.ts';
import { expandExecArgv, splitExecLine } from '../../units/exec-line.ts';
import type { UnitSpec } from '../../units/model.ts';
import { startOrder, stopOrder } from '../../units/order.ts';
import { parseUnit } from '../../units/parse.ts';
import { renderUnit } from '../../units/render.ts';
import { webArmArgv } from './webArm.ts';

interface ActiveUnit {
  state: 'active' | 'failed';
  startedAt: string;
  pid?: number;
  error?: string;
}

type ActiveMap = Record<string, ActiveUnit>;

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
  mkdirSync(dirname(activeFile(plan)), { recursive: true });
  writeFileSync(activeFile(plan), `${JSON.stringify(active, null, 2)}\n`);
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

async function runExecLines(plan: LabPlan, unit: UnitSpec, lines: string[], phase: string): Promise<void> {
  for (const line of lines) {
    const exec = splitExecLine(line, `${unit.name} ${phase}`);
    const argv = exec.expandEnvironment ? expandExecArgv(exec.argv, unit.service.environment) : exec.argv;
    const env = Object.entries(unit.service.environment).map(([k, v]) => `${k}=${v}`);
    const result = await run(webArmArgv(plan, [...(env.length ? ['env', ...env] : []), ...argv]), {
      timeoutMs: (unit.service.timeoutStartSec ?? 90) * 1000,
      allowFailure: true,
    });
    if (result.exitCode !== 0 && !exec.ignoreFailure) {
      throw new LabBrokenError(
        `web-arm: ${unit.name} failed in ${phase} (exit ${result.exitCode}): ${line}\n${(result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n')}`,
      );
    }
  }
}

export async function startUnit(plan: LabPlan, unit: UnitSpec): Promise<void> {
  const active = readActive(plan);
  if (active[unit.name]?.state === 'active') return;
  await runExecLines(plan, unit, unit.service.execStartPre, 'ExecStartPre');
  const entry: ActiveUnit = { state: 'active', startedAt: new Date().toISOString() };
  if (unit.service.type === 'oneshot') {
    await runExecLines(plan, unit, unit.service.execStart, 'ExecStart');
  } else {
    const line = unit.service.execStart[0];
    if (!line) throw new LabBrokenError(`web-arm: ${unit.name} has no ExecStart`);
    const exec = splitExecLine(line, `${unit.name} ExecStart`);
    const logDir = join(plan.webArm.runDir, 'log');
    mkdirSync(logDir, { recursive: true });
    entry.pid = spawnDaemon(webArmArgv(plan, exec.argv), { logFile: join(logDir, `${unit.name}.log`) });
  }
  const after = readActive(plan);
  after[unit.name] = entry;
  writeActive(plan, after);
}

export async function stopUnit(plan: LabPlan, unit: UnitSpec): Promise<void> {
  const active = readActive(plan);
  const entry = active[unit.name];
  if (!entry) return;
  if (entry.state === 'failed') {
    delete active[unit.name];
    writeActive(plan, active);
    return;
  }
  await runExecLines(plan, unit, unit.service.execStop, 'ExecStop').catch(() => undefined);
  if (entry.pid !== undefined) await terminate(entry.pid);
  await runExecLines(plan, unit, unit.service.execStopPost, 'ExecStopPost').catch(() => undefined);
  const after = readActive(plan);
  delete after[unit.name];
  writeActive(plan, after);
}


function markFailed(plan: LabPlan, name: string, error: string): void {
  const active = readActive(plan);
  active[name] = { state: 'failed', startedAt: new Date().toISOString(), error };
  writeActive(plan, active);
}

/**
 * Starts the named units in the given order like systemd does: a unit that fails is marked
 * failed and the others go on, but a unit whose Requires= failed is not started at all.
 */
async function startInOrder(
  plan: LabPlan,
  byName: Map<string, UnitSpec>,
  order: string[],
  progress: Progress,
  beforeStart?: (unit: string) => Promise<void>,
): Promise<StartResult> {
  const result: StartResult = { started: [], failed: [] };
  for (const name of order) {
    const unit = byName.get(name)!;
    const failedDependency = unit.requires.find((r) => readActive(plan)[r]?.state === 'failed');
    if (failedDependency) {
      const error = `dependency failed: ${failedDependency}`;
      markFailed(plan, name, error);
      result.failed.push({ unit: name, error });
      progress.note(`${name}: not started (${error})`);
      continue;
    }
    await beforeStart?.(name);
    try {
      await progress.step(`start ${name}`, () => startUnit(plan, unit));
      result.started.push(name);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      markFailed(plan, name, message);
      result.failed.push({ unit: name, error: message });
    }
  }
  return result;
}

/** Starts every installed unit wanted by multi-user.target, in unit order ("boot"). */
export async function bootUnits(plan: LabPlan, progress: Progress): Promise<StartResult> {
  const units = parsedUnits(installedUnits(plan));
  const order = startOrder(units, ['multi-user.target']);
  return startInOrder(plan, new Map(units.map((u) => [u.name, u])), order, progress);
}

/** Stops every active unit in reverse unit order ("shutdown"). */
export async function shutdownUnits(plan: LabPlan, progress: Progress): Promise<void> {
  const units = parsedUnits(installedUnits(plan));
  const active = Object.keys(readActive(plan)).filter((n) => units.some((u) => u.name === n));
  const byName = new Map(units.map((u) => [u.name, u]));
  for (const name of stopOrder(units, active)) {
    await progress.step(`stop ${name}`, () => stopUnit(plan, byName.get(name)!));
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
  const order = startOrder(units, ['multi-user.target']).filter((n) => group.includes(n));
  return startInOrder(plan, byName, order.includes(name) ? order : [name, ...order], progress);
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
  return startInOrder(plan, byName, [name], progress);
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
  const toStart = new Set([...sw.added, ...sw.changed]);
  const order = startOrder(next, ['multi-user.target']).filter(
    (name) => toStart.has(name) || readActive(plan)[name]?.state !== 'active',
  );
  // A unit that failed before is started again (it is "wanted but not running").
  for (const name of order) if (readActive(plan)[name]?.state === 'failed') await stopUnit(plan, next.find((u) => u.name === name)!);
  const result = await startInOrder(plan, new Map(next.map((u) => [u.name, u])), order, progress, options.beforeStart);
  return { ...sw, failed: result.failed };
}
