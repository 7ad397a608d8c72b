/**
 * The order systemd would start (and stop) units in, for an emulator that starts them itself.
 *
 * Pulling in (startOrder): from the targets, Wants= and Requires= transitively, plus the
 * reverse of WantedBy= (what `systemctl enable` turns into a Wants= of the target). A name
 * is resolvable if it is one of the given units, or a *virtual target*: a name that is not
 * a given unit but that some unit has in WantedBy= (e.g. multi-user.target). Wants= of an
 * unresolvable name is ignored (systemd ignores a missing wanted unit); Requires= of one is
 * a ConfigError (systemd would fail the requiring unit). Virtual targets take part in the
 * ordering but are not in the result.
 *
 * Ordering, among the units in the set only (as systemd orders the jobs of one transaction):
 * After=X on A puts X before A; Before=Y on A puts A before Y; either side is enough. A
 * target is ordered after the units it pulls in (systemd's default dependencies of targets)
 * unless that contradicts an explicit ordering. Ties are broken by name. A cycle is a
 * ConfigError naming the units in it and the constraints that make it.
 *
 * Default dependencies: when sysinit.target is in the set, every other unit in it that does
 * not say DefaultDependencies=no (and is not pulled in by sysinit.target itself) starts after
 * it, as systemd orders services and targets after sysinit.target (through basic.target).
 * bootOrder() starts what a boot starts: sysinit.target, then multi-user.target.
 */

import { ConfigError, LabBrokenError } from '../errors.ts';
import { unitType, type UnitSpec } from './model.ts';

/** from → to → why (from must start before to). */
type Edges = Map<string, Map<string, string>>;

function indexUnits(units: readonly UnitSpec[]): Map<string, UnitSpec> {
  const index = new Map<string, UnitSpec>();
  for (const u of units) {
    if (index.has(u.name)) {
      throw new ConfigError('units', u.name, 'is defined twice', 'define each unit once');
    }
    index.set(u.name, u);
  }
  return index;
}

/** target → the units that have it in WantedBy=. */
function indexWantedBy(units: readonly UnitSpec[]): Map<string, string[]> {
  const byTarget = new Map<string, string[]>();
  for (const u of units) {
    for (const t of u.wantedBy) {
      const list = byTarget.get(t) ?? [];
      list.push(u.name);
      byTarget.set(t, list);
    }
  }
  return byTarget;
}

/** The names a unit (or virtual target) pulls in: its Wants= and Requires=, and what is WantedBy= it. */
function pulledIn(name: string, index: Map<string, UnitSpec>, wantedBy: Map<string, string[]>): string[] {
  const spec = index.get(name);
  return [...(spec ? [...spec.wants, ...spec.requires] : []), ...(wantedBy.get(name) ?? [])];
}

function addEdge(edges: Edges, from: string, to: string, why: string): void {
  let out = edges.get(from);
  if (!out) {
    out = new Map();
    edges.set(from, out);
  }
  if (!out.has(to)) out.set(to, why);
}

/** What a boot reaches, in order (the emulator's default.target is multi-user.target). */
export const BOOT_TARGETS = ['sysinit.target', 'multi-user.target'] as const;

const SYSINIT = 'sysinit.target';

function orderingEdges(set: ReadonlySet<string>, index: Map<string, UnitSpec>, wantedBy: Map<string, string[]>): Edges {
  const edges: Edges = new Map();
  if (set.has(SYSINIT)) {
    const early = new Set(pulledIn(SYSINIT, index, wantedBy));
    for (const name of set) {
      if (name === SYSINIT || early.has(name) || index.get(name)?.options.defaultDependencies === false) continue;
      addEdge(edges, SYSINIT, name, `${name} has default dependencies (After=${SYSINIT})`);
    }
  }
  for (const name of set) {
    const spec = index.get(name);
    if (!spec) continue;
    for (const x of spec.after) if (set.has(x)) addEdge(edges, x, name, `${name} has After=${x}`);
    for (const y of spec.before) if (set.has(y)) addEdge(edges, name, y, `${name} has Before=${y}`);
  }
  for (const target of set) {
    if (unitType(target) !== 'target') continue;
    for (const u of pulledIn(target, index, wantedBy)) {
      if (!set.has(u) || u === target || edges.get(target)?.has(u)) continue;
      addEdge(edges, u, target, `${target} is a target that pulls in ${u}`);
    }
  }
  return edges;
}

/** Topological order of `set` under `edges`, ties by name; a cycle is a ConfigError. */
function topoSort(set: ReadonlySet<string>, edges: Edges): string[] {
  const indegree = new Map<string, number>();
  for (const n of set) indegree.set(n, 0);
  for (const [, out] of edges) for (const to of out.keys()) indegree.set(to, (indegree.get(to) ?? 0) + 1);
  const ready = [...set].filter((n) => indegree.get(n) === 0).sort();
  const order: string[] = [];
  while (ready.length > 0) {
    const n = ready.shift() as string;
    order.push(n);
    let added = false;
    for (const to of edges.get(n)?.keys() ?? []) {
      const d = (indegree.get(to) ?? 0) - 1;
      indegree.set(to, d);
      if (d === 0) {
        ready.push(to);
        added = true;
      }
    }
    if (added) ready.sort();
  }
  if (order.length === set.size) return order;
  throw cycleError(new Set([...set].filter((n) => (indegree.get(n) ?? 0) > 0)), edges);
}

function cycleError(remaining: ReadonlySet<string>, edges: Edges): ConfigError | LabBrokenError {
  // Every remaining node has a remaining predecessor: walk predecessors until one repeats.
  const predecessors = (n: string): string[] =>
    [...edges].filter(([from, out]) => remaining.has(from) && out.has(n)).map(([from]) => from).sort();
  const start = [...remaining].sort()[0];
  if (start === undefined) return new LabBrokenError('unit ordering: topological sort stopped without a cycle');
  const path: string[] = [start];
  const seenAt = new Map<string, number>([[start, 0]]);
  for (;;) {
    const prev = predecessors(path[path.length - 1] as string)[0];
    if (prev === undefined) {
      return new LabBrokenError(`unit ordering: ${path[path.length - 1]} is stuck without a predecessor`);
    }
    const at = seenAt.get(prev);
    if (at !== undefined) {
      // path[at] … path[end] walked backwards; the cycle forward is its reverse.
      const backwards = path.slice(at).reverse();
      // Start the cycle at its smallest name, for a stable message.
      const first = backwards.indexOf([...backwards].sort()[0] as string);
      const cycle = [...backwards.slice(first), ...backwards.slice(0, first)];
      const closed = [...cycle, cycle[0] as string];
      const reasons = cycle.map((from, i) => edges.get(from)?.get(closed[i + 1] as string) ?? '?');
      return new ConfigError(
        'unit ordering',
        cycle,
        `ordering cycle ${closed.join(' → ')} (${reasons.join('; ')})`,
        'remove one of these After=/Before= constraints',
      );
    }
    seenAt.set(prev, path.length);
    path.push(prev);
  }
}

/**
 * The known units to start for `targets` (unit names, known or virtual targets), in an
 * order where every After=/Before= constraint among them holds. See the module comment.
 * Throws ConfigError for an unknown target, a Requires= of an unknown unit, a duplicate
 * unit name or an ordering cycle.
 */
export function startOrder(units: readonly UnitSpec[], targets: readonly string[]): string[] {
  const { index, set, edges } = transaction(units, targets);
  return topoSort(set, edges).filter((n) => index.has(n));
}

/**
 * The same units as startOrder, as waves systemd's job engine would run side by side: a unit's
 * wave comes after the waves of every unit (or virtual target) it is ordered after, and units of
 * one wave have no ordering between them (systemd starts such jobs at once). Within a wave,
 * names in start order. Throws as startOrder does.
 */
export function startWaves(units: readonly UnitSpec[], targets: readonly string[]): string[][] {
  const { index, set, edges } = transaction(units, targets);
  return wavesOf(set, edges).map((w) => w.filter((n) => index.has(n))).filter((w) => w.length > 0);
}

/** `set` in waves: each name one wave after the latest wave of what is ordered before it. */
function wavesOf(set: ReadonlySet<string>, edges: Edges): string[][] {
  const wave = new Map<string, number>();
  for (const name of topoSort(set, edges)) {
    let at = 0;
    for (const [from, out] of edges) if (out.has(name)) at = Math.max(at, (wave.get(from) ?? 0) + 1);
    wave.set(name, at);
  }
  const waves: string[][] = [];
  for (const [name, at] of wave) (waves[at] ??= []).push(name);
  return waves.filter((w) => w !== undefined);
}

/** The units a start of `targets` pulls in (virtual targets included) and the ordering among them. */
function transaction(units: readonly UnitSpec[], targets: readonly string[]): { index: Map<string, UnitSpec>; set: Set<string>; edges: Edges } {
  const index = indexUnits(units);
  const wantedBy = indexWantedBy(units);
  const resolvable = (n: string): boolean => index.has(n) || wantedBy.has(n);
  for (const t of targets) {
    if (!resolvable(t)) {
      throw new ConfigError('start target', t, 'is not a known unit and no unit has WantedBy= it', 'name a defined unit, or a target some unit is WantedBy=');
    }
  }
  const set = new Set<string>();
  const queue = [...targets];
  for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
    if (set.has(n)) continue;
    set.add(n);
    const spec = index.get(n);
    for (const r of spec?.requires ?? []) {
      if (!resolvable(r)) {
        throw new ConfigError(`${n} Requires`, r, `names a unit that is not defined, so systemd would fail to start ${n}`, `define ${r}, or use Wants= if it is optional`);
      }
    }
    queue.push(...pulledIn(n, index, wantedBy).filter(resolvable));
  }
  return { index, set, edges: orderingEdges(set, index, wantedBy) };
}

/** The known units a boot starts (sysinit.target's, then multi-user.target's), in start order. */
export function bootOrder(units: readonly UnitSpec[]): string[] {
  const targets = bootTargets(units);
  return targets.length ? startOrder(units, targets) : [];
}

/** The units a boot starts, as waves that start side by side (startWaves). */
export function bootWaves(units: readonly UnitSpec[]): string[][] {
  const targets = bootTargets(units);
  return targets.length ? startWaves(units, targets) : [];
}

function bootTargets(units: readonly UnitSpec[]): string[] {
  const index = indexUnits(units);
  const wantedBy = indexWantedBy(units);
  return BOOT_TARGETS.filter((t) => index.has(t) || wantedBy.has(t));
}

/**
 * The order to stop exactly the units `names` in (none pulled in): the reverse of their
 * start order (sysinit.target's default dependencies included). Throws ConfigError for a name
 * that is not a given unit, or an ordering cycle.
 */
export function stopOrder(units: readonly UnitSpec[], names: readonly string[]): string[] {
  const { set, edges } = stopTransaction(units, names);
  return topoSort(set, edges).reverse().filter((n) => names.includes(n));
}

/**
 * The same units as stopOrder, as waves that stop side by side (systemd stops jobs with no
 * ordering between them at once): the reverse of their start waves. Throws as stopOrder does.
 */
export function stopWaves(units: readonly UnitSpec[], names: readonly string[]): string[][] {
  const { set, edges } = stopTransaction(units, names);
  return wavesOf(set, edges)
    .map((w) => w.filter((n) => names.includes(n)).reverse())
    .filter((w) => w.length > 0)
    .reverse();
}

function stopTransaction(units: readonly UnitSpec[], names: readonly string[]): { set: Set<string>; edges: Edges } {
  const index = indexUnits(units);
  for (const n of names) {
    if (!index.has(n)) throw new ConfigError('stop unit', n, 'is not a known unit', 'name a defined unit');
  }
  const wantedBy = indexWantedBy(units);
  // sysinit.target takes part (not stopped itself): what it pulls in stops after everything
  // that has default dependencies, as at a shutdown (the firewall after the containers).
  const set = new Set([...names, ...(index.has(SYSINIT) || wantedBy.has(SYSINIT) ? [SYSINIT] : [])]);
  return { set, edges: orderingEdges(set, index, wantedBy) };
}
