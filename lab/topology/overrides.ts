/**
 * `--set path=value` overrides on top of the default config. Pure.
 * Values are JSON when they parse as JSON (numbers, booleans, arrays), else plain strings.
 */
import { ConfigError } from '../errors.ts';

export interface Override {
  path: string;
  value: unknown;
}

export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  if (eq <= 0) {
    throw new ConfigError('--set', text, 'expected path=value', 'write it as --set design.params.ipv6Subnet=fdaa:1::/64');
  }
  const path = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1);
  return { path, value: parseValue(raw) };
}

function parseValue(raw: string): unknown {
  const trimmed = raw.trim();
  if (/^(-?\d+(\.\d+)?|true|false|null|\[.*\]|\{.*\}|".*")$/s.test(trimmed)) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return raw;
    }
  }
  return raw;
}

/** Paths under these prefixes may introduce new keys: the design checks its own params. */
const OPEN_PREFIXES = ['design.params.'];

/** Returns a copy of config with every override applied; unknown paths fail with the known ones. */
export function applyOverrides<T extends object>(config: T, overrides: readonly Override[]): T {
  const copy = structuredClone(config) as Record<string, unknown>;
  for (const { path, value } of overrides) {
    const segments = path.split('.');
    if (segments.some((s) => s === '')) {
      throw new ConfigError(path, value, 'the path has an empty segment', 'use dots between names, e.g. webArm.ipv6.address');
    }
    const open = OPEN_PREFIXES.some((p) => path.startsWith(p));
    let node: unknown = copy;
    for (let i = 0; i < segments.length - 1; i++) {
      const key = segments[i]!;
      const next = Object.hasOwn(node as object, key) ? (node as Record<string, unknown>)[key] : undefined;
      if (next === undefined || next === null || typeof next !== 'object') {
        throw unknownPath(path, value, copy);
      }
      node = next;
    }
    const last = segments[segments.length - 1]!;
    const target = node as Record<string, unknown>;
    if (!Object.hasOwn(target, last) && (!open || ['__proto__', 'constructor', 'prototype'].includes(last))) {
      throw unknownPath(path, value, copy);
    }
    target[last] = value;
  }
  return copy as T;
}

function unknownPath(path: string, value: unknown, config: object): ConfigError {
  const known = listPaths(config);
  const head = path.split('.')[0] ?? '';
  const near = known.filter((k) => k.startsWith(`${head}.`));
  const shown = near.length ? near : known;
  return new ConfigError(
    path,
    value,
    'no such config path',
    `use one of: ${shown.slice(0, 12).join(', ')}${shown.length > 12 ? ', …' : ''} (the README lists them all)`,
  );
}

/** Every settable leaf path of a config object, in order. */
export function listPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return prefix ? [prefix] : [];
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return prefix ? [prefix] : [];
  return entries.flatMap(([k, v]) => listPaths(v, prefix ? `${prefix}.${k}` : k));
}
