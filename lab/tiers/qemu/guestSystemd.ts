/**
 * web-arm's units on the qemu tier, where systemd is real: the configuration is installed the
 * way `nixos-rebuild switch` does it (write units and files, daemon-reload, stop removed units,
 * restart changed ones, start new ones and whatever is wanted but not running, leave unchanged
 * ones alone), and single units are started, stopped and restarted with systemctl.
 */
import { LabBrokenError } from '../../errors.ts';
import type { Progress } from '../../progress.ts';
import { planSwitch } from '../../units/diff.ts';
import type { UnitSpec } from '../../units/model.ts';
import { GENERATED_HEADER, renderUnit } from '../../units/render.ts';
import type { Machine } from '../../nodes/machine.ts';
import type { StartResult, SwitchResult, UnitFailure } from '../netns/unitRunner.ts';
import { RESTART_ON_CHANGE } from './guestEtc.ts';
import { changedFiles, FILE_MANIFEST, parseHashes, parseUnitDump, renderHashScript, renderInstallScript, renderManifest, renderRemoveScript, renderUnitDumpScript, staleFiles } from './guestFiles.ts';

export const GUEST_UNIT_DIR = '/etc/systemd/system';
/** systemctl start of podman units under TCG can take a while (the first `podman run` ~15 s). */
const SYSTEMCTL_TIMEOUT_MS = 5 * 60_000;

function quoteAll(names: readonly string[]): string {
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
  const deadline = performance.now() + SYSTEMCTL_TIMEOUT_MS;
  for (;;) {
    const states = await unitStates(machine, names);
    if (![...states.values()].some((s) => TRANSITIONAL.has(s)) || performance.now() > deadline) return states;
    await new Promise((r) => setTimeout(r, 500));
  }
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

export interface GuestSwitchOptions {
  /** Called before the given unit is started (e.g. to record host state before the first container). */
  beforeStart?: (unit: string) => Promise<void>;
  /** Units to start last, after beforeStart was called for them. */
  startLast?: readonly string[];
  start?: boolean;
}

/**
 * Installs units (in /etc/systemd/system) and files (absolute paths) in the guest like
 * `nixos-rebuild switch`. Only units carrying the lab's header are the lab's; others are left alone.
 */
export async function switchGuest(
  machine: Machine,
  next: UnitSpec[],
  files: Record<string, string>,
  progress: Progress,
  options: GuestSwitchOptions = {},
): Promise<SwitchResult> {
  const previous = parseUnitDump(await machine.succeed(renderUnitDumpScript(GUEST_UNIT_DIR, GENERATED_HEADER)));
  const nextText = new Map(next.map((u) => [u.name, renderUnit(u)]));
  const sw = planSwitch(previous, nextText);
  const unitFiles = Object.fromEntries([...nextText].map(([name, text]) => [`${GUEST_UNIT_DIR}/${name}`, text]));
  const allFiles = { ...files, ...unitFiles };
  const paths = Object.keys(allFiles).sort();
  const changed = changedFiles(allFiles, parseHashes(await machine.succeed(renderHashScript(paths))));
  const manifest = await machine.execute(`cat ${FILE_MANIFEST}`);
  const stale = staleFiles(manifest.exitCode === 0 ? manifest.stdout : '', files);

  const activeBefore = await unitStates(machine, [...sw.removed, ...sw.changed]);
  const toStop = [...sw.removed, ...sw.changed].filter((n) => activeBefore.get(n) === 'active');
  if (toStop.length) await progress.step(`stop ${toStop.join(', ')}`, () => machine.succeed(`systemctl stop ${quoteAll(toStop)}`, { timeoutMs: SYSTEMCTL_TIMEOUT_MS }));
  if (sw.removed.length) {
    await machine.execute(`systemctl disable ${quoteAll(sw.removed)}`);
    await machine.succeed(renderRemoveScript(sw.removed.map((n) => `${GUEST_UNIT_DIR}/${n}`)));
  }
  if (stale.length) await progress.step(`remove ${stale.join(', ')} (no longer in the configuration)`, () => machine.succeed(renderRemoveScript(stale)));
  // The manifest travels with the changed files (one round trip); rewritten only when the set of files differs.
  const nextManifest = renderManifest(files);
  const manifestEntry: Record<string, string> = manifest.exitCode === 0 && manifest.stdout === nextManifest ? {} : { [FILE_MANIFEST]: nextManifest };
  if (changed.length) {
    const changedContent = Object.fromEntries(changed.map((p) => [p, allFiles[p]!]));
    await progress.step(`write ${changed.length} file(s)`, () => machine.succeed('sh -s', { input: renderInstallScript({ ...changedContent, ...manifestEntry }) }));
  } else if (Object.keys(manifestEntry).length) {
    await machine.succeed('sh -s', { input: renderInstallScript(manifestEntry) });
  }
  if (changed.length || sw.removed.length || stale.length) await machine.succeed('systemctl daemon-reload');
  const wanted = next.filter((u) => u.wantedBy.length).map((u) => u.name);
  if (wanted.length) await machine.succeed(`systemctl enable ${quoteAll(wanted)}`);
  // Services follow their files (kernel settings, the MTA's config), as switch-to-configuration restarts them.
  for (const { prefix, unit } of RESTART_ON_CHANGE) {
    if ([...changed, ...stale].some((p) => p.startsWith(prefix))) {
      await progress.step(`systemctl restart ${unit}`, () => machine.succeed(`systemctl restart ${unit}`, { timeoutMs: SYSTEMCTL_TIMEOUT_MS }));
    }
  }
  if (options.start === false) return { ...sw, failed: [] };

  const states = await unitStates(machine, [...nextText.keys()]);
  const toStart = [...nextText.keys()].filter((n) => sw.added.includes(n) || sw.changed.includes(n) || states.get(n) !== 'active');
  const last = toStart.filter((n) => options.startLast?.includes(n));
  const first = toStart.filter((n) => !last.includes(n));
  const failed: UnitFailure[] = [];
  if (first.length) failed.push(...(await progress.step(`start ${first.join(', ')}`, () => startUnits(machine, first))).failed);
  for (const name of last) {
    await options.beforeStart?.(name);
    failed.push(...(await progress.step(`start ${name}`, () => startUnits(machine, [name]))).failed);
  }
  return { ...sw, failed };
}

/** Throws when the guest's systemd is not running cleanly (names the failed units). */
export async function assertSystemRunning(machine: Machine): Promise<void> {
  const state = await machine.execute('systemctl is-system-running --wait', { timeoutMs: 180_000 });
  if (state.stdout.trim() === 'running') return;
  const failed = await machine.execute('systemctl --failed --no-legend --plain');
  throw new LabBrokenError(`web-arm's systemd is "${state.stdout.trim()}": failed units:\n${failed.stdout.trim()}`);
}
