/**
 * Units on a web-arm with a real systemd (the qemu tier's guests, the vagrant tier's VM), through
 * its Machine: unit states, what failed and why (with its journal), start, stop and restart with
 * systemctl, and whether the system runs cleanly.
 */
import { LabBrokenError } from '../errors.ts';
import { waitForSystemdUnit, type Machine, type SystemMachine } from '../nodes/machine.ts';
import type { Progress } from '../progress.ts';
import type { WebArm } from './tier.ts';
import { waitUntil } from '../wait.ts';
import type { StartResult, UnitFailure } from '../units/results.ts';

/**
 * systemctl start of podman units under TCG can take a while (the first `podman run` ~15 s; a
 * Docker design's first start loads its image into dockerd, `podman save | docker load`, which took
 * over 5 minutes on 2 loaded cores). The lab waits as long as the slowest unit it renders may take
 * to start (the Docker units' TimeoutStartSec=600), so it never calls broken what systemd still allows.
 */
export const SYSTEMCTL_TIMEOUT_MS = 10 * 60_000 + 30_000;

export function quoteAll(names: readonly string[]): string {
  return names.map((n) => `'${n}'`).join(' ');
}

/** ActiveState of each unit (one systemctl call). */
export async function unitStates(machine: Machine, names: readonly string[]): Promise<Map<string, string>> {
  const states = new Map<string, string>();
  if (!names.length) return states;
  const out = await machine.succeed(`systemctl show --property=Id,ActiveState ${quoteAll(names)}`);
  let id: string | undefined;
  for (const line of out.split('\n')) {
    const [key, value] = [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)];
    if (key === 'Id') id = value;
    else if (key === 'ActiveState' && id) states.set(id, value);
  }
  return states;
}

/**
 * What systemd says of each unit that is not active: its state, whether a dependency failed,
 * and the unit's journal of this boot (its own output and systemd's lines about it).
 */
export async function failuresOf(machine: Machine, names: readonly string[]): Promise<UnitFailure[]> {
  const states = await settledStates(machine, names);
  const failed = names.filter((n) => states.get(n) !== 'active');
  return Promise.all(
    failed.map(async (unit) => {
      const journal = (await machine.execute(`journalctl -u '${unit}' -b --no-pager -n 12 -o cat`, { timeoutMs: 30_000 })).stdout.trim();
      const dependency = /Dependency failed for|dependency job .* failed/i.test(journal) ? ' (dependency failed)' : '';
      return { unit, error: `${states.get(unit) ?? 'unknown'}${dependency}: ${journal.split('\n').join(' | ')}` };
    }),
  );
}

const TRANSITIONAL = new Set(['activating', 'deactivating', 'reloading', 'refreshing']);

/**
 * The units' states once none is on its way somewhere: `systemctl restart` returns when its own
 * job is done, while jobs it pulled in (PartOf= restarts) may still run.
 */
async function settledStates(machine: Machine, names: readonly string[]): Promise<Map<string, string>> {
  let last = new Map<string, string>();
  const settled = await waitUntil(
    `[${machine.name}] ${names.join(', ')} to settle`,
    async () => {
      last = await unitStates(machine, names);
      return [...last.values()].some((s) => TRANSITIONAL.has(s)) ? undefined : last;
    },
    { timeoutMs: SYSTEMCTL_TIMEOUT_MS, intervalMs: 500 },
  ).catch(() => undefined);
  // Still moving after the limit: what systemd says now.
  return settled ?? last;
}

/** systemctl start of several units in one transaction; what did not end up active is reported. */
export async function startUnits(machine: Machine, names: readonly string[]): Promise<StartResult> {
  if (!names.length) return { started: [], failed: [] };
  const states = await unitStates(machine, names);
  const wasFailed = names.filter((n) => states.get(n) === 'failed');
  if (wasFailed.length) await machine.execute(`systemctl reset-failed ${quoteAll(wasFailed)}`);
  await machine.execute(`systemctl start ${quoteAll(names)}`, { timeoutMs: SYSTEMCTL_TIMEOUT_MS });
  const failed = await failuresOf(machine, names);
  return { started: names.filter((n) => !failed.some((f) => f.unit === n)), failed };
}

/** systemctl restart: systemd restarts the units that are PartOf= it as well; they are reported with it. */
export async function restartGuestUnit(machine: Machine, name: string): Promise<StartResult> {
  await machine.execute(`systemctl reset-failed '${name}' 2>/dev/null; systemctl restart '${name}'`, { timeoutMs: SYSTEMCTL_TIMEOUT_MS });
  const parts = (await machine.succeed(`systemctl show --property=ConsistsOf --value '${name}'`)).split(/\s+/).filter(Boolean).sort();
  const group = [name, ...parts];
  const failed = await failuresOf(machine, group);
  return { started: group.filter((n) => !failed.some((f) => f.unit === n)), failed };
}

export async function stopGuestUnit(machine: Machine, name: string): Promise<void> {
  await machine.succeed(`systemctl stop '${name}'`, { timeoutMs: SYSTEMCTL_TIMEOUT_MS });
}

export async function startGuestUnit(machine: Machine, name: string): Promise<StartResult> {
  return startUnits(machine, [name]);
}

/** Throws when the guest's systemd is not running cleanly (names the failed units). */
export async function assertSystemRunning(machine: Machine): Promise<void> {
  const state = await machine.execute('systemctl is-system-running --wait', { timeoutMs: 180_000 });
  if (state.stdout.trim() === 'running') return;
  const failed = await machine.execute('systemctl --failed --no-legend --plain');
  throw new LabBrokenError(`web-arm's systemd is "${state.stdout.trim()}": failed units:\n${failed.stdout.trim()}`);
}

/** A WebArm's unit verbs on a real systemd: `systemctl restart|stop|start`, each a progress step. */
export function systemctlUnitVerbs(machine: Machine): Pick<WebArm, 'restart' | 'stop' | 'start'> {
  return {
    restart: (unit, progress) => progress.step(`systemctl restart ${unit}`, () => restartGuestUnit(machine, unit)),
    stop: (unit, progress) => progress.step(`systemctl stop ${unit}`, () => stopGuestUnit(machine, unit)),
    start: (unit, progress) => progress.step(`systemctl start ${unit}`, () => startGuestUnit(machine, unit)),
  };
}

/** What a real reboot measured: the kernel's boot id before and after, and how long it took. */
export interface RealReboot {
  rebootMs: number;
  bootIdBefore: string;
  bootIdAfter: string;
}

/**
 * A machine with a real systemd as web-arm's SystemMachine: `waitForUnit` through systemctl, and
 * `reboot` done by the tier's own means (`how`), identified by the kernel's boot id.
 */
export function realSystemMachine<M extends Machine>(machine: M, how: string, reboot: (progress: Progress) => Promise<RealReboot>): M & SystemMachine {
  return {
    ...machine,
    waitForUnit: (unit, timeoutMs) => waitForSystemdUnit(machine, unit, timeoutMs),
    async reboot(progress) {
      const r = await progress.step(`reboot web-arm (real: ${how})`, () => reboot(progress));
      return { realism: 'real', how: `${how}, then multi-user.target`, identity: 'boot id', before: r.bootIdBefore, after: r.bootIdAfter, durationMs: r.rebootMs };
    },
  };
}
