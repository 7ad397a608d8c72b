/**
 * Flags shared by every verb: --set path=value (repeatable), --name, --host netns|qemu|vagrant,
 * --guest debian|nixos, --arch x86_64|aarch64, --json, --verbose; and --no-snapshot where a
 * verb declares it (up, compare).
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.ts';
import { defaultConfig, type LabConfig } from '../topology/config.ts';
import { applyOverrides, parseOverride } from '../topology/overrides.ts';
import { validateConfig } from '../topology/validate.ts';
import { defaultGuestOf } from '../tiers/capabilities.ts';

export interface CommonOptions {
  config: LabConfig;
  json: boolean;
  verbose: boolean;
  positionals: string[];
  /** Everything after a literal `--`. */
  rest: string[];
  flags: Record<string, string | boolean | string[] | undefined>;
}

export type ExtraFlags = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

export function parseCommon(args: string[], extra: ExtraFlags = {}): CommonOptions {
  const dash = args.indexOf('--');
  const own = dash >= 0 ? args.slice(0, dash) : args;
  const rest = dash >= 0 ? args.slice(dash + 1) : [];
  let parsed;
  try {
    parsed = parseArgs({
      args: own,
      allowPositionals: true,
      strict: true,
      options: {
        set: { type: 'string', multiple: true },
        name: { type: 'string' },
        host: { type: 'string' },
        guest: { type: 'string' },
        arch: { type: 'string' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
        ...extra,
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}.`);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const overrides = ((values.set as string[] | undefined) ?? []).map(parseOverride);
  if (typeof values.name === 'string') overrides.unshift({ path: 'lab.name', value: values.name });
  // --host, --guest and --arch are shorthands of --set lab.tier=…, lab.guest=… and lab.arch=….
  if (typeof values.host === 'string') overrides.unshift({ path: 'lab.tier', value: values.host });
  const guestFlag = values.guest;
  if (typeof guestFlag === 'string') overrides.unshift({ path: 'lab.guest', value: guestFlag });
  // A tier's own guest unless told otherwise (the vagrant tier's box is NixOS: --host vagrant means --guest nixos).
  else if (typeof values.host === 'string' && !overrides.some((o) => o.path === 'lab.guest')) {
    const guest = defaultGuestOf(values.host);
    if (guest) overrides.unshift({ path: 'lab.guest', value: guest });
  }
  if (typeof values.arch === 'string') overrides.unshift({ path: 'lab.arch', value: values.arch });
  // --no-snapshot (only verbs that bring web-arm up declare it) is --set lab.snapshot=false.
  if (values['no-snapshot'] === true) overrides.unshift({ path: 'lab.snapshot', value: false });
  // --no-design-snapshot (lab up) is --set lab.designSnapshot=false.
  if (values['no-design-snapshot'] === true) overrides.unshift({ path: 'lab.designSnapshot', value: false });
  const config = validateConfig(applyOverrides(defaultConfig(), overrides));
  return {
    config,
    json: Boolean(values.json),
    verbose: Boolean(values.verbose),
    positionals: parsed.positionals,
    rest,
    flags: values,
  };
}
