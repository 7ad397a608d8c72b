/**
 * A small, pure model of systemd units: what the lab installs on a real systemd VM (via
 * render.ts) and what the emulator starts itself where there is no systemd (via order.ts
 * and exec-line.ts).
 *
 * Values are literal: `%` in a description, Exec line or environment value is a percent
 * sign (render.ts writes `%%`). Exec lines are in systemd Exec syntax otherwise (prefixes,
 * quoting, `$VAR`), see exec-line.ts.
 */

import { ConfigError } from '../errors.ts';
import { isValidEnvironmentName, splitExecLine } from './exec-line.ts';

export const SERVICE_TYPES = ['oneshot', 'simple', 'notify', 'forking', 'exec'] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

export const RESTART_VALUES = ['no', 'on-success', 'on-failure', 'on-abnormal', 'on-watchdog', 'on-abort', 'always'] as const;

/** NotifyAccess=: who may send sd_notify messages (READY=1, MAINPID=) for the service. */
export const NOTIFY_ACCESS_VALUES = ['none', 'main', 'exec', 'all'] as const;
export type NotifyAccess = (typeof NOTIFY_ACCESS_VALUES)[number];

export type ServiceSpec = {
  type: ServiceType;
  /** Only ever `true` when set: RemainAfterExit=no is the default and is left out. */
  remainAfterExit?: boolean;
  execStartPre: string[];
  execStart: string[];
  /** ExecReload=: what `systemctl reload` (and a switch of a reloadIfChanged unit) runs. */
  execReload: string[];
  execStop: string[];
  execStopPost: string[];
  environment: Record<string, string>;
  /** One of RESTART_VALUES. */
  restart?: string;
  /** Seconds; may be fractional; Infinity renders as `infinity`. 0 disables the timeout (as systemd reads it). */
  timeoutStartSec?: number;
  /** Seconds, as timeoutStartSec. */
  timeoutStopSec?: number;
  /** NotifyAccess=, for Type=notify services whose READY=1 comes from another process (podman's conmon). */
  notifyAccess?: NotifyAccess;
  /** RuntimeDirectory=: a directory under /run made at start and removed at stop (one name, relative). */
  runtimeDirectory?: string;
  /** User= the service runs as. */
  user?: string;
};

/**
 * [Unit] settings beside the dependencies: what NixOS writes for units that start early
 * (the firewall) and how its switch treats a change (X-ReloadIfChanged, read by
 * switch-to-configuration; systemd ignores X- keys).
 */
export type UnitOptions = {
  /** DefaultDependencies=no: not ordered after sysinit.target/basic.target (only `false` is rendered). */
  defaultDependencies?: false;
  /** ConditionCapability=: the unit is skipped where the capability is missing. */
  conditionCapability?: string;
  /** X-ReloadIfChanged=true: a switch that changes the unit reloads it instead of restarting it. */
  reloadIfChanged?: true;
};

export type UnitSpec = {
  /** The full unit name, e.g. "v6egress-network.service". */
  name: string;
  description: string;
  wants: string[];
  requires: string[];
  after: string[];
  before: string[];
  /** PartOf=: stopping or restarting one of these stops or restarts this unit too. */
  partOf: string[];
  /** Conflicts=: starting one of these stops this unit (and the other way round). */
  conflicts: string[];
  wantedBy: string[];
  options: UnitOptions;
  service: ServiceSpec;
};

export type ServiceInput = {
  type?: ServiceType;
  remainAfterExit?: boolean;
  execStartPre?: readonly string[];
  execStart?: readonly string[];
  execReload?: readonly string[];
  execStop?: readonly string[];
  execStopPost?: readonly string[];
  environment?: Readonly<Record<string, string>>;
  restart?: string;
  timeoutStartSec?: number;
  timeoutStopSec?: number;
  notifyAccess?: NotifyAccess;
  runtimeDirectory?: string;
  user?: string;
};

export type UnitInput = {
  name: string;
  description?: string;
  wants?: readonly string[];
  requires?: readonly string[];
  after?: readonly string[];
  before?: readonly string[];
  partOf?: readonly string[];
  conflicts?: readonly string[];
  wantedBy?: readonly string[];
  options?: UnitOptions;
  service?: ServiceInput;
};

export const DEPENDENCY_KEYS = ['wants', 'requires', 'after', 'before', 'partOf', 'conflicts', 'wantedBy'] as const;
export type DependencyKey = (typeof DEPENDENCY_KEYS)[number];

export const EXEC_KEYS = ['execStartPre', 'execStart', 'execReload', 'execStop', 'execStopPost'] as const;
export type ExecKey = (typeof EXEC_KEYS)[number];

/** The unit file key for each model field. */
export const UNIT_FILE_KEY = {
  wants: 'Wants',
  requires: 'Requires',
  after: 'After',
  before: 'Before',
  partOf: 'PartOf',
  conflicts: 'Conflicts',
  wantedBy: 'WantedBy',
  execStartPre: 'ExecStartPre',
  execStart: 'ExecStart',
  execReload: 'ExecReload',
  execStop: 'ExecStop',
  execStopPost: 'ExecStopPost',
} as const satisfies Record<DependencyKey | ExecKey, string>;

const UNIT_TYPES = ['service', 'socket', 'target', 'device', 'mount', 'automount', 'swap', 'timer', 'path', 'slice', 'scope'];
const UNIT_NAME = new RegExp(`^[A-Za-z0-9:_.\\\\-]+(@[A-Za-z0-9:_.\\\\-]*)?\\.(${UNIT_TYPES.join('|')})$`);

/** True for a syntactically valid unit name ("foo.service", "getty@tty1.service", "multi-user.target"). */
export function isValidUnitName(name: string): boolean {
  return name.length <= 255 && UNIT_NAME.test(name);
}

/** "service" for "foo.service". */
export function unitType(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

/**
 * The systemd default for Type= when it is not set: "simple" if there is an ExecStart=,
 * "oneshot" otherwise (what systemd itself does).
 */
export function defaultServiceType(execStart: readonly string[]): ServiceType {
  return execStart.length > 0 ? 'simple' : 'oneshot';
}

function dedupe(list: readonly string[]): string[] {
  return [...new Set(list)];
}

/**
 * Builds a UnitSpec, filling defaults (empty lists and environment, Type= as systemd would
 * default it), trimming the description and Exec lines, dropping duplicate names from the
 * dependency lists and RemainAfterExit=false. Throws ConfigError if the result is not a
 * unit systemd would load (see validateUnit).
 */
export function defineUnit(input: UnitInput): UnitSpec {
  const s = input.service ?? {};
  const execStart = (s.execStart ?? []).map((l) => l.trim());
  const service: ServiceSpec = {
    type: s.type ?? defaultServiceType(execStart),
    execStartPre: (s.execStartPre ?? []).map((l) => l.trim()),
    execStart,
    execReload: (s.execReload ?? []).map((l) => l.trim()),
    execStop: (s.execStop ?? []).map((l) => l.trim()),
    execStopPost: (s.execStopPost ?? []).map((l) => l.trim()),
    environment: { ...(s.environment ?? {}) },
  };
  if (s.remainAfterExit) service.remainAfterExit = true;
  if (s.restart !== undefined) service.restart = s.restart;
  if (s.timeoutStartSec !== undefined) service.timeoutStartSec = s.timeoutStartSec;
  if (s.timeoutStopSec !== undefined) service.timeoutStopSec = s.timeoutStopSec;
  if (s.notifyAccess !== undefined) service.notifyAccess = s.notifyAccess;
  if (s.runtimeDirectory !== undefined) service.runtimeDirectory = s.runtimeDirectory;
  if (s.user !== undefined) service.user = s.user;
  const options: UnitOptions = {};
  if (input.options?.defaultDependencies === false) options.defaultDependencies = false;
  if (input.options?.conditionCapability !== undefined) options.conditionCapability = input.options.conditionCapability;
  if (input.options?.reloadIfChanged) options.reloadIfChanged = true;
  const spec: UnitSpec = {
    name: input.name,
    description: (input.description ?? '').trim(),
    wants: dedupe(input.wants ?? []),
    requires: dedupe(input.requires ?? []),
    after: dedupe(input.after ?? []),
    before: dedupe(input.before ?? []),
    partOf: dedupe(input.partOf ?? []),
    conflicts: dedupe(input.conflicts ?? []),
    wantedBy: dedupe(input.wantedBy ?? []),
    options,
    service,
  };
  validateUnit(spec);
  return spec;
}

/** Shorthand for a service unit: defineUnit with the service fields at the top level. */
export function defineService(input: Omit<UnitInput, 'service'> & ServiceInput): UnitSpec {
  const { name, description, wants, requires, after, before, partOf, conflicts, wantedBy, options, ...service } = input;
  const unit: UnitInput = { name, service };
  if (description !== undefined) unit.description = description;
  if (wants !== undefined) unit.wants = wants;
  if (requires !== undefined) unit.requires = requires;
  if (after !== undefined) unit.after = after;
  if (before !== undefined) unit.before = before;
  if (partOf !== undefined) unit.partOf = partOf;
  if (conflicts !== undefined) unit.conflicts = conflicts;
  if (wantedBy !== undefined) unit.wantedBy = wantedBy;
  if (options !== undefined) unit.options = options;
  return defineUnit(unit);
}

function fail(unit: string, key: string, value: unknown, problem: string, fix: string): never {
  throw new ConfigError(`${unit} ${key}`, value, problem, fix);
}

/** A trailing unescaped backslash would turn into a line continuation in the unit file. */
function endsWithContinuation(value: string): boolean {
  const m = /\\+$/.exec(value);
  return m !== null && m[0].length % 2 === 1;
}

/** Checks a value that goes on one unit file line as is. */
function checkLineValue(unit: string, key: string, value: string): void {
  if (/[\n\r\0]/.test(value)) fail(unit, key, value, 'contains a line break or NUL character', 'keep the value on one line');
  if (value !== value.trim()) fail(unit, key, value, 'has leading or trailing whitespace, which systemd strips', 'trim the value (defineUnit does this)');
  if (endsWithContinuation(value)) fail(unit, key, value, 'ends with a backslash, which systemd reads as a line continuation', 'remove the trailing backslash or double it');
}

/**
 * Throws ConfigError (naming the unit and key) unless spec is a unit that renders to a
 * file systemd loads with the same meaning:
 * - names are valid unit names, no unit orders itself against itself;
 * - Type= is one of SERVICE_TYPES, Restart= one of RESTART_VALUES (and not always/on-success
 *   for oneshot), TimeoutStartSec= is a non-negative number or Infinity;
 * - Exec lines split (exec-line.ts) and fit on one line; environment names are valid;
 * - a .service has an ExecStart= or ExecStop=, and exactly one ExecStart= unless oneshot;
 * - a unit that is not a .service has no service settings (its [Service] is not rendered).
 */
export function validateUnit(spec: UnitSpec): void {
  const unit = spec.name;
  if (!isValidUnitName(unit)) {
    fail(unit, 'name', unit, 'is not a valid unit name', 'use NAME.TYPE with letters, digits and ":_.-\\", e.g. "v6egress-network.service"');
  }
  checkLineValue(unit, 'Description', spec.description);
  for (const key of DEPENDENCY_KEYS) {
    for (const dep of spec[key]) {
      if (!isValidUnitName(dep)) {
        fail(unit, UNIT_FILE_KEY[key], dep, 'is not a valid unit name', 'use a full unit name with its type suffix, e.g. "podman.service"');
      }
      if (dep === unit) {
        fail(unit, UNIT_FILE_KEY[key], dep, 'names the unit itself', `remove ${dep} from ${UNIT_FILE_KEY[key]}=`);
      }
    }
  }
  const s = spec.service;
  if (!(SERVICE_TYPES as readonly string[]).includes(s.type)) {
    fail(unit, 'Type', s.type, 'is not a service type this model supports', `use one of ${SERVICE_TYPES.join(', ')}`);
  }
  for (const key of EXEC_KEYS) {
    s[key].forEach((line, i) => {
      const field = `${unit} ${UNIT_FILE_KEY[key]}[${i}]`;
      checkLineValue(unit, `${UNIT_FILE_KEY[key]}[${i}]`, line);
      if (line === '') {
        throw new ConfigError(field, line, 'is empty (an empty Exec assignment would reset the list)', 'remove the empty line');
      }
      splitExecLine(line, field);
    });
  }
  for (const [name, value] of Object.entries(s.environment)) {
    if (!isValidEnvironmentName(name)) {
      fail(unit, 'Environment', name, 'is not a valid environment variable name', 'use letters, digits and _, not starting with a digit');
    }
    if (value.includes('\0')) fail(unit, `Environment ${name}`, value, 'contains a NUL character', 'remove the NUL character');
  }
  if (s.restart !== undefined) {
    if (!(RESTART_VALUES as readonly string[]).includes(s.restart)) {
      fail(unit, 'Restart', s.restart, 'is not a Restart= value', `use one of ${RESTART_VALUES.join(', ')}`);
    }
    if (s.type === 'oneshot' && (s.restart === 'always' || s.restart === 'on-success')) {
      fail(unit, 'Restart', s.restart, 'is not allowed for Type=oneshot (systemd refuses the unit)', 'use Restart=on-failure or no');
    }
  }
  for (const [key, value] of [['TimeoutStartSec', s.timeoutStartSec], ['TimeoutStopSec', s.timeoutStopSec]] as const) {
    if (value !== undefined && !(value >= 0)) fail(unit, key, value, 'is not a non-negative number of seconds', 'give seconds, e.g. 90, or Infinity');
  }
  if (s.notifyAccess !== undefined && !(NOTIFY_ACCESS_VALUES as readonly string[]).includes(s.notifyAccess)) {
    fail(unit, 'NotifyAccess', s.notifyAccess, 'is not a NotifyAccess= value', `use one of ${NOTIFY_ACCESS_VALUES.join(', ')}`);
  }
  if (s.runtimeDirectory !== undefined && !/^[A-Za-z0-9_.@-]+(\/[A-Za-z0-9_.@-]+)*$/.test(s.runtimeDirectory)) {
    fail(unit, 'RuntimeDirectory', s.runtimeDirectory, 'is not a relative directory name under /run', 'give a name such as "v6probe"');
  }
  if (s.user !== undefined) checkLineValue(unit, 'User', s.user);
  if (spec.options.conditionCapability !== undefined && !/^CAP_[A-Z_]+$/.test(spec.options.conditionCapability)) {
    fail(unit, 'ConditionCapability', spec.options.conditionCapability, 'is not a capability name', 'write a name such as CAP_NET_ADMIN');
  }
  if (unitType(unit) === 'service') {
    if (s.execStart.length === 0 && s.execStop.length === 0) {
      fail(unit, 'ExecStart', s.execStart, 'a service needs an ExecStart= or ExecStop= (systemd refuses the unit)', 'add an ExecStart= line');
    }
    if (s.type !== 'oneshot' && s.execStart.length !== 1) {
      fail(unit, 'ExecStart', s.execStart, `Type=${s.type} needs exactly one ExecStart= (only oneshot may have several or none)`, 'use one ExecStart= or Type=oneshot');
    }
  } else {
    const hasService =
      s.type !== 'oneshot' ||
      s.remainAfterExit === true ||
      s.restart !== undefined ||
      s.timeoutStartSec !== undefined ||
      s.timeoutStopSec !== undefined ||
      s.notifyAccess !== undefined ||
      s.runtimeDirectory !== undefined ||
      s.user !== undefined ||
      Object.keys(s.environment).length > 0 ||
      EXEC_KEYS.some((k) => s[k].length > 0);
    if (hasService) {
      fail(unit, 'service', s, 'only a .service unit can have service settings', 'rename the unit to NAME.service or drop the service settings');
    }
  }
}
