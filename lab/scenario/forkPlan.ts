/**
 * Forked web-arms (`lab test --parallel N`): which web-arm runs which scenario. Pure.
 *
 * Where the tier restores web-arm from a snapshot in seconds (ForkAbility), the scenarios of a
 * run are shared among the lab's own web-arm and forks: labs of their own, each with a router
 * and an internet of its own, brought up with the same configuration (the same design and
 * parameters), so each story finds the lab a `lab up` leaves, as it does on one lab run with
 * `--only`. The stories with a real reboot run on forks of their own while there are forks for
 * them (they are the longest); the rest is shared longest first onto the least loaded web-arm.
 * A fork is made only where its share outweighs bringing it up. Within each web-arm the
 * scenarios keep file order.
 */
import { listPaths } from '../topology/overrides.ts';
import { defaultConfig, type LabConfig } from '../topology/config.ts';

/** The lab's own web-arm is `self`; forks are numbered from 1. */
export interface ForkShare {
  fork: number;
  /** The lab this share runs on (the lab itself for fork 0). */
  lab: string;
  ids: string[];
  /** Its estimated cost, in the planner's units. */
  weight: number;
}

export interface ForkPlanInput {
  /** Scenario ids in file order. */
  ids: readonly string[];
  /** Web-arms at most, the lab's own included (1: no forks). */
  webArms: number;
  lab: string;
  /** A scenario's estimated cost (ms of its last run, or a default); 0 for one that will be skipped. */
  weight: (id: string) => number;
  /** Whether a story reboots web-arm for real (each gets a fork of its own while there are forks). */
  realReboot: (id: string) => boolean;
  /** What bringing a fork up costs, in the same units as weight: a fork with less work is not made. */
  forkCost: number;
}

/** The name of fork i of a lab: lab names are at most 16 lowercase letters or digits. */
export function forkLabName(lab: string, fork: number): string {
  const suffix = `f${fork}`;
  return `${lab.slice(0, 16 - suffix.length)}${suffix}`;
}

export function planForks(input: ForkPlanInput): ForkShare[] {
  const webArms = Math.max(1, Math.floor(input.webArms));
  const shares: ForkShare[] = Array.from({ length: webArms }, (_, fork) => ({ fork, lab: fork ? forkLabName(input.lab, fork) : input.lab, ids: [], weight: 0 }));
  const place = (id: string, share: ForkShare) => {
    share.ids.push(id);
    share.weight += input.weight(id);
  };
  const rest = [...input.ids];
  // The real reboots first, each on a fork of its own (longest first) while forks remain.
  const reboots = rest.filter((id) => input.realReboot(id) && input.weight(id) > 0).sort((a, b) => input.weight(b) - input.weight(a));
  for (const [i, id] of reboots.entries()) {
    const share = shares[i + 1];
    if (!share) break;
    place(id, share);
    rest.splice(rest.indexOf(id), 1);
  }
  // The rest longest first, each onto the least loaded web-arm (the lab's own on a tie).
  for (const id of [...rest].sort((a, b) => input.weight(b) - input.weight(a) || input.ids.indexOf(a) - input.ids.indexOf(b))) {
    place(id, shares.reduce((least, s) => (s.weight < least.weight ? s : least), shares[0]!));
  }
  // A fork whose share is worth less than bringing it up gives its scenarios back to the lab's own web-arm.
  for (const share of shares.slice(1)) {
    if (share.weight >= input.forkCost || share.ids.length === 0) continue;
    for (const id of share.ids) place(id, shares[0]!);
    share.ids = [];
    share.weight = 0;
  }
  const order = (id: string) => input.ids.indexOf(id);
  const kept = shares.filter((s) => s.fork === 0 || s.ids.length > 0);
  // Forks renumbered 1, 2, … after the empty ones are left out (their lab names follow).
  return kept.map((s, i) => ({ ...s, fork: i, lab: i ? forkLabName(input.lab, i) : input.lab, ids: [...s.ids].sort((a, b) => order(a) - order(b)) }));
}

/**
 * Web-arms at once, by default: one per core, as far as free memory holds a guest each (plus
 * room for its router and internet), and never fewer than one.
 */
export function defaultWebArms(cores: number, freeMemMiB: number, webArmMemMiB: number): number {
  const byMemory = Math.floor(freeMemMiB / (webArmMemMiB + 512));
  return Math.max(1, Math.min(cores, byMemory));
}

/** Whether a config value would be read back as itself from `--set path=value`. */
function setValue(value: unknown): string {
  if (typeof value === 'string') return /^(-?\d+(\.\d+)?|true|false|null|\[.*\]|\{.*\}|".*")$/s.test(value.trim()) || value !== value.trim() ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

function leaf(config: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), config);
}

/**
 * The `--set` flags that bring a fork up with the lab's configuration: every leaf that differs
 * from the defaults, but the lab's own name and state directory (a fork has its own).
 */
export function forkSets(config: LabConfig, defaults: LabConfig = defaultConfig()): string[] {
  const own = new Set(['lab.name', 'lab.stateDir']);
  const sets: string[] = [];
  for (const path of listPaths(config)) {
    if (own.has(path)) continue;
    const value = leaf(config, path);
    if (JSON.stringify(value) === JSON.stringify(leaf(defaults, path))) continue;
    sets.push(`${path}=${setValue(value)}`);
  }
  return sets;
}
