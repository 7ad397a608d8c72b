/**
 * What NixOS's switch-to-configuration (nixos-rebuild switch) does with units when the
 * installed set changes: new units are started, changed ones restarted (or reloaded, when the
 * new unit says X-ReloadIfChanged=true, as NixOS's firewall does), removed ones stopped, the
 * rest left running.
 *
 * "Changed" is decided as switch-to-configuration decides it: on the parsed files, not the
 * bytes. Comments, blank lines, line continuations and whitespace around keys and values do
 * not count, nor does the order of different keys; the values of a repeated key count in
 * order. In [Unit], the keys NixOS ignores (UNIT_SECTION_IGNORED_KEYS: Description,
 * Documentation, …) do not count either. Everything else, unknown keys included, does.
 */

import { parseUnitFile } from './parse.ts';

export type SwitchPlan = {
  /** In next only: to start. */
  added: string[];
  /** In both, different: to restart. */
  changed: string[];
  /** In both, different, and the new unit has X-ReloadIfChanged=true: to reload (ExecReload), not restart. */
  reloaded: string[];
  /** In both, the same: left running. */
  unchanged: string[];
  /** In previous only: to stop. */
  removed: string[];
};

/** [Unit] keys whose change does not restart a unit (switch-to-configuration's list). */
export const UNIT_SECTION_IGNORED_KEYS: readonly string[] = [
  'Description',
  'Documentation',
  'OnFailure',
  'OnSuccess',
  'OnFailureJobMode',
  'IgnoreOnIsolate',
  'StopWhenUnneeded',
  'RefuseManualStart',
  'RefuseManualStop',
  'AllowIsolate',
  'CollectMode',
  'SourcePath',
];

/** A canonical text of a unit file's meaning for the comparison above. Throws ConfigError on bad syntax. */
export function comparableUnit(name: string, text: string): string {
  const sections = new Map<string, Map<string, string[]>>();
  for (const e of parseUnitFile(name, text)) {
    if (e.section === 'Unit' && UNIT_SECTION_IGNORED_KEYS.includes(e.key)) continue;
    let keys = sections.get(e.section);
    if (!keys) {
      keys = new Map();
      sections.set(e.section, keys);
    }
    const values = keys.get(e.key) ?? [];
    values.push(e.value);
    keys.set(e.key, values);
  }
  const canonical = [...sections.keys()].sort().map((section) => {
    const keys = sections.get(section) as Map<string, string[]>;
    return [section, [...keys.keys()].sort().map((k) => [k, keys.get(k)])];
  });
  return JSON.stringify(canonical);
}

/**
 * Compares the installed units (name → unit file text) with the next ones. All lists are
 * sorted by name. Throws ConfigError (naming unit and line) if a text is not a unit file.
 */
export function planSwitch(previous: ReadonlyMap<string, string>, next: ReadonlyMap<string, string>): SwitchPlan {
  const plan: SwitchPlan = { added: [], changed: [], reloaded: [], unchanged: [], removed: [] };
  const names = [...new Set([...previous.keys(), ...next.keys()])].sort();
  for (const name of names) {
    const before = previous.get(name);
    const after = next.get(name);
    if (before === undefined) plan.added.push(name);
    else if (after === undefined) plan.removed.push(name);
    else if (before === after || comparableUnit(name, before) === comparableUnit(name, after)) plan.unchanged.push(name);
    else if (reloadsIfChanged(name, after)) plan.reloaded.push(name);
    else plan.changed.push(name);
  }
  return plan;
}

/** The unit file says X-ReloadIfChanged=true (switch-to-configuration reads the new unit's). */
export function reloadsIfChanged(name: string, text: string): boolean {
  return parseUnitFile(name, text).some((e) => e.section === 'Unit' && e.key === 'X-ReloadIfChanged' && /^(1|yes|y|true|t|on)$/i.test(e.value));
}
