/**
 * web-arm's configuration on the qemu tier's Debian guest, where systemd is real: installed the
 * way `nixos-rebuild switch` does it (write units and files, daemon-reload, stop removed units,
 * reload changed ones that say X-ReloadIfChanged (NixOS's firewall) where they run, restart the
 * other changed ones, start new ones and whatever is wanted but not running, leave unchanged
 * ones alone).
 */
import type { Progress } from '../../progress.ts';
import { planSwitch } from '../../units/diff.ts';
import type { UnitSpec } from '../../units/model.ts';
import { GENERATED_HEADER, renderUnit } from '../../units/render.ts';
import type { Machine } from '../../nodes/machine.ts';
import type { SwitchResult, UnitFailure } from '../../units/results.ts';
import { quoteAll, startUnits, SYSTEMCTL_TIMEOUT_MS, unitStates } from '../systemctl.ts';
import { RESTART_ON_CHANGE } from './guestEtc.ts';
import { changedFiles, FILE_MANIFEST, parseHashes, parseUnitDump, renderHashScript, renderInstallScript, renderManifest, renderRemoveScript, renderUnitDumpScript, staleFiles } from './guestFiles.ts';

export const GUEST_UNIT_DIR = '/etc/systemd/system';

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
  for (const { prefix, suffix, unit } of RESTART_ON_CHANGE) {
    if ([...changed, ...stale].some((p) => p.startsWith(prefix) && (suffix === undefined || p.endsWith(suffix)))) {
      await progress.step(`systemctl restart ${unit}`, () => machine.succeed(`systemctl restart ${unit}`, { timeoutMs: SYSTEMCTL_TIMEOUT_MS }));
    }
  }
  if (options.start === false) return { ...sw, failed: [] };

  const failed: UnitFailure[] = [];
  // switch-to-configuration reloads these (ExecReload=) instead of restarting them; one not running is started below.
  const reloadStates = await unitStates(machine, sw.reloaded);
  for (const name of sw.reloaded.filter((n) => reloadStates.get(n) === 'active')) {
    const reload = await progress.step(`systemctl reload ${name}`, () => machine.execute(`systemctl reload '${name}'`, { timeoutMs: SYSTEMCTL_TIMEOUT_MS }));
    if (reload.exitCode !== 0) failed.push({ unit: name, error: `reload failed: ${(reload.stderr || reload.stdout).trim()}` });
  }
  const states = await unitStates(machine, [...nextText.keys()]);
  const toStart = [...nextText.keys()].filter((n) => sw.added.includes(n) || sw.changed.includes(n) || states.get(n) !== 'active');
  const last = toStart.filter((n) => options.startLast?.includes(n));
  const first = toStart.filter((n) => !last.includes(n));
  if (first.length) failed.push(...(await progress.step(`start ${first.join(', ')}`, () => startUnits(machine, first))).failed);
  for (const name of last) {
    await options.beforeStart?.(name);
    failed.push(...(await progress.step(`start ${name}`, () => startUnits(machine, [name]))).failed);
  }
  return { ...sw, failed };
}

