/**
 * systemd unit file text → UnitSpec: the inverse of render.ts, and ordinary systemd syntax.
 *
 * Syntax (as systemd's config parser reads it):
 * - lines starting with `#` or `;` (after whitespace) are comments, also inside a continuation;
 * - a line ending in an unescaped backslash continues on the next line (the backslash
 *   becomes a space);
 * - `[Section]` headers; `Key=Value` with whitespace around key and value stripped;
 * - list keys (Wants, Requires, Conflicts, After, Before, PartOf, WantedBy, Environment, Exec*) accumulate over
 *   repeated keys and an empty assignment (`After=`) resets the list; other keys: last wins,
 *   empty means the default;
 * - specifiers: `%%` is `%`; `%n` `%N` `%p` `%i` are resolved; any other specifier is an error
 *   (the model's values are literal, see model.ts);
 * - Environment= takes space-separated, optionally quoted `NAME=value` assignments;
 * - unknown sections and keys are ignored, as is [Service] in a unit that is not a .service.
 *
 * Errors are ConfigError naming the unit and the line (`foo.service line 7: …`).
 */

import { ConfigError } from '../errors.ts';
import { isValidEnvironmentName, splitExecLine, splitWords } from './exec-line.ts';
import {
  defineUnit,
  isValidUnitName,
  NOTIFY_ACCESS_VALUES,
  RESTART_VALUES,
  SERVICE_TYPES,
  unitType,
  type NotifyAccess,
  type ServiceType,
  type UnitOptions,
  type UnitSpec,
} from './model.ts';

/** One assignment of a unit file, after comments and continuations are dealt with. */
export type UnitFileEntry = {
  section: string;
  key: string;
  value: string;
  /** 1-based number of the (first physical) line the assignment is on. */
  line: number;
};

const WHITESPACE = ' \t\n\r';

function strip(text: string): string {
  let a = 0;
  let b = text.length;
  while (a < b && WHITESPACE.includes(text[a] as string)) a++;
  while (b > a && WHITESPACE.includes(text[b - 1] as string)) b--;
  return text.slice(a, b);
}

function endsWithContinuation(text: string): boolean {
  const m = /\\+$/.exec(text);
  return m !== null && m[0].length % 2 === 1;
}

function syntaxError(unit: string, line: number, text: string, problem: string, fix: string): never {
  throw new ConfigError(`${unit} line ${line}`, text, problem, fix);
}

/**
 * Reads a unit file at the syntax level: every assignment in every section, in file order,
 * unknown ones included. Throws ConfigError naming the unit and line on bad syntax.
 */
export function parseUnitFile(unit: string, text: string): UnitFileEntry[] {
  const entries: UnitFileEntry[] = [];
  let section: string | undefined;

  const handle = (logical: string, line: number): void => {
    const l = strip(logical);
    if (l === '') return;
    if (l.startsWith('[')) {
      if (!l.endsWith(']') || l.length < 3) {
        syntaxError(unit, line, l, 'is not a valid section header', 'write the header as [Unit], [Service] or [Install]');
      }
      section = l.slice(1, -1);
      return;
    }
    const eq = l.indexOf('=');
    if (eq < 0) syntaxError(unit, line, l, "is not an assignment: it has no '='", 'write Key=Value, or start the line with # to make it a comment');
    const key = strip(l.slice(0, eq));
    if (key === '') syntaxError(unit, line, l, "has no key before '='", 'write Key=Value');
    if (section === undefined) {
      syntaxError(unit, line, l, 'is an assignment outside of any section', 'put it under a [Unit], [Service] or [Install] header');
    }
    entries.push({ section, key, value: strip(l.slice(eq + 1)), line });
  };

  let pending: { text: string; line: number } | undefined;
  text.split('\n').forEach((physical, index) => {
    const raw = physical.endsWith('\r') ? physical.slice(0, -1) : physical;
    const lead = raw.trimStart();
    if (lead.startsWith('#') || lead.startsWith(';')) return;
    const logical = pending ? pending.text + raw : raw;
    const line = pending ? pending.line : index + 1;
    pending = undefined;
    if (endsWithContinuation(logical)) {
      pending = { text: logical.slice(0, -1) + ' ', line };
      return;
    }
    handle(logical, line);
  });
  if (pending) handle(pending.text, pending.line);
  return entries;
}

/**
 * Resolves the specifiers this lab supports in a unit file value: `%%`, `%n` (full unit
 * name), `%N` (without the type suffix), `%p` (prefix: before `@`), `%i` (instance).
 * Returns `{ bad }` naming the offending specifier otherwise.
 */
export function resolveSpecifiers(unit: string, value: string): { value: string } | { bad: string } {
  const withoutType = unit.slice(0, unit.lastIndexOf('.'));
  const at = withoutType.indexOf('@');
  const table: Record<string, string> = {
    '%': '%',
    n: unit,
    N: withoutType,
    p: at >= 0 ? withoutType.slice(0, at) : withoutType,
    i: at >= 0 ? withoutType.slice(at + 1) : '',
  };
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c !== '%') {
      out += c;
      continue;
    }
    const spec = value[i + 1];
    const replacement = spec === undefined ? undefined : table[spec];
    if (replacement === undefined) return { bad: '%' + (spec ?? '') };
    out += replacement;
    i++;
  }
  return { value: out };
}

const TIME_UNITS: Record<string, number> = {
  // microseconds per unit
  usec: 1,
  us: 1,
  µs: 1,
  μs: 1,
  msec: 1_000,
  ms: 1_000,
  seconds: 1_000_000,
  second: 1_000_000,
  sec: 1_000_000,
  s: 1_000_000,
  '': 1_000_000,
  minutes: 60_000_000,
  minute: 60_000_000,
  min: 60_000_000,
  m: 60_000_000,
  hours: 3_600_000_000,
  hour: 3_600_000_000,
  hr: 3_600_000_000,
  h: 3_600_000_000,
  days: 86_400_000_000,
  day: 86_400_000_000,
  d: 86_400_000_000,
  weeks: 604_800_000_000,
  week: 604_800_000_000,
  w: 604_800_000_000,
  months: 2_629_800_000_000,
  month: 2_629_800_000_000,
  M: 2_629_800_000_000,
  years: 31_557_600_000_000,
  year: 31_557_600_000_000,
  y: 31_557_600_000_000,
};

/** systemd time span ("90", "1min 30s", "500ms", "infinity") → seconds; undefined if invalid. */
export function parseTimeSpan(text: string): number | undefined {
  const t = strip(text);
  if (t === 'infinity') return Infinity;
  if (t === '') return undefined;
  const part = /^(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-zµμ]*)\s*/;
  let rest = t;
  let usec = 0;
  while (rest !== '') {
    const m = part.exec(rest);
    if (!m) return undefined;
    const factor = TIME_UNITS[m[2] as string];
    if (factor === undefined) return undefined;
    usec += Math.round(Number(m[1]) * factor);
    rest = rest.slice(m[0].length);
  }
  return usec / 1_000_000;
}

/** systemd's parse_boolean(). */
export function parseBoolean(text: string): boolean | undefined {
  const t = text.toLowerCase();
  if (['1', 'yes', 'y', 'true', 't', 'on'].includes(t)) return true;
  if (['0', 'no', 'n', 'false', 'f', 'off'].includes(t)) return false;
  return undefined;
}

const LIST_KEYS = { Wants: 'wants', Requires: 'requires', After: 'after', Before: 'before', PartOf: 'partOf', Conflicts: 'conflicts' } as const;
const EXEC_FILE_KEYS = {
  ExecStartPre: 'execStartPre',
  ExecStart: 'execStart',
  ExecReload: 'execReload',
  ExecStop: 'execStop',
  ExecStopPost: 'execStopPost',
} as const;

/**
 * Parses a unit file into a UnitSpec. `name` is the unit's name (the file name). Throws
 * ConfigError naming the unit and line on bad syntax or a bad value in a key the model
 * knows, and naming the unit if the whole is not a unit systemd would load (validateUnit).
 */
export function parseUnit(name: string, text: string): UnitSpec {
  if (!isValidUnitName(name)) {
    throw new ConfigError('unit name', name, 'is not a valid unit name', 'use NAME.TYPE, e.g. "v6egress-network.service"');
  }
  const isService = unitType(name) === 'service';
  let description = '';
  const lists = { wants: [] as string[], requires: [] as string[], after: [] as string[], before: [] as string[], partOf: [] as string[], conflicts: [] as string[], wantedBy: [] as string[] };
  const exec = { execStartPre: [] as string[], execStart: [] as string[], execReload: [] as string[], execStop: [] as string[], execStopPost: [] as string[] };
  let environment = new Map<string, string>();
  let type: ServiceType | undefined;
  let remainAfterExit = false;
  let restart: string | undefined;
  let timeoutStartSec: number | undefined;
  let timeoutStopSec: number | undefined;
  let notifyAccess: NotifyAccess | undefined;
  let runtimeDirectory: string | undefined;
  let user: string | undefined;
  const options: UnitOptions = {};

  for (const e of parseUnitFile(name, text)) {
    const where = `${name} line ${e.line}`;
    const shown = `${e.key}=${e.value}`;
    const bad = (problem: string, fix: string): never => {
      throw new ConfigError(where, shown, problem, fix);
    };
    const resolve = (value: string): string => {
      const r = resolveSpecifiers(name, value);
      if ('bad' in r) return bad(`uses the specifier ${r.bad}, which this lab does not support`, 'write %% for a literal %, or use %n, %N, %p or %i');
      return r.value;
    };
    const addUnits = (list: string[], value: string): void => {
      if (value === '') {
        list.length = 0;
        return;
      }
      for (const word of value.split(/[ \t]+/)) {
        const dep = resolve(word);
        if (!isValidUnitName(dep)) bad(`${JSON.stringify(dep)} is not a valid unit name`, 'use full unit names with their type suffix, e.g. podman.service');
        if (!list.includes(dep)) list.push(dep);
      }
    };

    const bool = (fallback: boolean): boolean => {
      const b = e.value === '' ? fallback : parseBoolean(e.value);
      if (b === undefined) bad('is not a boolean', 'write yes or no');
      return b as boolean;
    };
    const timeSpan = (): number | undefined => {
      if (e.value === '') return undefined;
      const sec = parseTimeSpan(e.value);
      if (sec === undefined) bad('is not a time span', 'give seconds (90), a span (1min 30s) or infinity');
      return sec;
    };

    if (e.section === 'Unit') {
      if (e.key === 'Description') description = resolve(e.value);
      else if (e.key in LIST_KEYS) addUnits(lists[LIST_KEYS[e.key as keyof typeof LIST_KEYS]], e.value);
      else if (e.key === 'DefaultDependencies') {
        if (bool(true)) delete options.defaultDependencies;
        else options.defaultDependencies = false;
      } else if (e.key === 'ConditionCapability') {
        if (e.value === '') delete options.conditionCapability;
        else options.conditionCapability = e.value;
      } else if (e.key === 'X-ReloadIfChanged') {
        if (bool(false)) options.reloadIfChanged = true;
        else delete options.reloadIfChanged;
      }
    } else if (e.section === 'Install') {
      if (e.key === 'WantedBy') addUnits(lists.wantedBy, e.value);
    } else if (e.section === 'Service' && isService) {
      if (e.key === 'Type') {
        if (e.value === '') type = undefined;
        else if ((SERVICE_TYPES as readonly string[]).includes(e.value)) type = e.value as ServiceType;
        else bad('is not a service type this model supports', `use one of ${SERVICE_TYPES.join(', ')}`);
      } else if (e.key === 'RemainAfterExit') {
        remainAfterExit = bool(false);
      } else if (e.key === 'NotifyAccess') {
        if (e.value === '') notifyAccess = undefined;
        else if ((NOTIFY_ACCESS_VALUES as readonly string[]).includes(e.value)) notifyAccess = e.value as NotifyAccess;
        else bad('is not a NotifyAccess= value', `use one of ${NOTIFY_ACCESS_VALUES.join(', ')}`);
      } else if (e.key === 'RuntimeDirectory') {
        runtimeDirectory = e.value === '' ? undefined : resolve(e.value);
      } else if (e.key === 'User') {
        user = e.value === '' ? undefined : resolve(e.value);
      } else if (e.key === 'TimeoutStopSec') {
        timeoutStopSec = timeSpan();
      } else if (e.key === 'Environment') {
        if (e.value === '') {
          environment = new Map();
          continue;
        }
        for (const word of splitWords(e.value, `${where} Environment`)) {
          const assignment = resolve(word);
          const eq = assignment.indexOf('=');
          const key = eq < 0 ? '' : assignment.slice(0, eq);
          if (!isValidEnvironmentName(key)) bad(`${JSON.stringify(assignment)} is not a NAME=value assignment`, 'write Environment="NAME=value" with a valid variable name');
          environment.delete(key);
          environment.set(key, assignment.slice(eq + 1));
        }
      } else if (e.key in EXEC_FILE_KEYS) {
        const list = exec[EXEC_FILE_KEYS[e.key as keyof typeof EXEC_FILE_KEYS]];
        if (e.value === '') {
          list.length = 0;
          continue;
        }
        const line = resolve(e.value);
        splitExecLine(line, `${where} ${e.key}`); // throws ConfigError naming the unit and line
        list.push(line);
      } else if (e.key === 'Restart') {
        if (e.value === '') restart = undefined;
        else if ((RESTART_VALUES as readonly string[]).includes(e.value)) restart = e.value;
        else bad('is not a Restart= value', `use one of ${RESTART_VALUES.join(', ')}`);
      } else if (e.key === 'TimeoutStartSec') {
        timeoutStartSec = timeSpan();
      }
    }
  }

  const service: NonNullable<Parameters<typeof defineUnit>[0]['service']> = {
    ...exec,
    environment: Object.fromEntries(environment),
    remainAfterExit,
  };
  if (type !== undefined) service.type = type;
  if (restart !== undefined) service.restart = restart;
  if (timeoutStartSec !== undefined) service.timeoutStartSec = timeoutStartSec;
  if (timeoutStopSec !== undefined) service.timeoutStopSec = timeoutStopSec;
  if (notifyAccess !== undefined) service.notifyAccess = notifyAccess;
  if (runtimeDirectory !== undefined) service.runtimeDirectory = runtimeDirectory;
  if (user !== undefined) service.user = user;
  return defineUnit({ name, description, ...lists, options, service });
}
