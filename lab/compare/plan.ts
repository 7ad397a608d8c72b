/**
 * `lab compare --plan`: the cells of a comparison (design × variant × tier × guest × arch), each
 * with a stable, readable id (`v6egress--netns-debian-x86_64`, `v6egress@v6only--qemu-nixos-aarch64`)
 * and the GitHub runner label its architecture needs, as the `{ include: [...] }` object a
 * workflow feeds to `strategy.matrix` with `fromJSON`. Every cell's config is validated here as
 * `lab up` would validate it (an unknown design, a design a tier cannot run, a guest a tier does
 * not have: a ConfigError naming the fix), so a plan never holds a cell that cannot start.
 * Pure.
 */
import { getDesign, validateDesign } from '../designs/registry.ts';
import { ConfigError, UsageError } from '../errors.ts';
import type { Tier as TierName } from '../report/model.ts';
import { guestsOf } from '../tiers/capabilities.ts';
import { defaultConfig, type LabConfig } from '../topology/config.ts';
import { validateConfig } from '../topology/validate.ts';

export type Arch = LabConfig['lab']['arch'];
export type Guest = LabConfig['lab']['guest'];

/** The GitHub-hosted runner whose CPU is the architecture (web-arm is aarch64: the ARM runner). */
export const RUNNER_OF_ARCH: Readonly<Record<Arch, string>> = { x86_64: 'ubuntu-24.04', aarch64: 'ubuntu-24.04-arm' };

/** One cell: one design (or its IPv6-only variant) on one tier, guest and architecture. */
export interface CompareCell {
  id: string;
  /** The column label: `<design>` or `<design>@v6only`. */
  label: string;
  design: string;
  v6only: boolean;
  tier: TierName;
  guest: Guest;
  arch: Arch;
  /** The runner label the cell needs (`runs-on`). */
  runner: string;
  /** Its failure does not fail the merge (a new column, until it has passed once). */
  allowFailure?: true;
}

/** What `--plan` prints: exactly the object `strategy.matrix` takes (every other key would be a matrix dimension). */
export interface CellPlan {
  include: CompareCell[];
}

export interface PlanRequest {
  /** `<design>` or `<design>@v6only`, at least one. */
  entries: readonly string[];
  /** Default: the lab's default tier, guest (the tier's own) and this machine's architecture. */
  tiers?: readonly string[];
  guests?: readonly string[];
  arches?: readonly string[];
  allowFailure?: boolean;
}

/**
 * One column of a comparison: `<design>` or `<design>@v6only` (the IPv6-only variant). A design
 * made for the variant (clat-464xlat) gets it without asking and is labelled so.
 */
export function compareEntry(arg: string): { label: string; design: string; sets: string[] } {
  const [design, variant, ...rest] = arg.split('@');
  if (rest.length || (variant !== undefined && variant !== 'v6only')) {
    throw new UsageError(`lab compare: "${arg}" is not <design> or <design>@v6only. Fix: write the design's name, with @v6only for its IPv6-only variant`);
  }
  const v6only = variant === 'v6only' || getDesign(design!).topology?.ipv4 === false;
  return { label: v6only ? `${design}@v6only` : design!, design: design!, sets: v6only ? ['--set', 'topology.ipv4=false'] : [] };
}

/** `<label>--<tier>-<guest>-<arch>`: readable, stable, and parsed back by cellFromId. */
export function cellId(cell: Pick<CompareCell, 'label' | 'tier' | 'guest' | 'arch'>): string {
  return `${cell.label}--${cell.tier}-${cell.guest}-${cell.arch}`;
}

/** The config `lab up` gets for a cell (validated: a ConfigError names what cannot run and the fix). */
export function cellConfig(cell: Pick<CompareCell, 'design' | 'v6only' | 'tier' | 'guest' | 'arch'>, base: LabConfig = defaultConfig()): LabConfig {
  const config = validateConfig({
    ...base,
    lab: { ...base.lab, tier: cell.tier, guest: cell.guest, arch: cell.arch },
    topology: { ...base.topology, ipv4: !cell.v6only },
    design: { name: cell.design, params: {} },
  });
  validateDesign(config);
  return config;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** Every cell of the request, design-major, validated. */
export function planCells(request: PlanRequest): CellPlan {
  if (!request.entries.length) {
    throw new UsageError('lab compare --plan needs at least one design. Fix: name them, e.g. `pnpm lab compare --plan v6egress v6egress@v6only routed-subprefix --arch x86_64,aarch64`');
  }
  const entries = request.entries.map(compareEntry);
  const labels = entries.map((e) => e.label);
  const twice = labels.find((l, i) => labels.indexOf(l) !== i);
  if (twice) throw new UsageError(`lab compare --plan: ${twice} is named twice. Fix: name each design (and variant) once`);
  const defaults = defaultConfig().lab;
  const tiers = unique(request.tiers?.length ? request.tiers : [defaults.tier]);
  const arches = unique(request.arches?.length ? request.arches : [defaults.arch]);
  const guests = request.guests?.length ? unique(request.guests) : undefined;
  // Each tier with the asked guests it has (its own guest when none was asked).
  const tierGuests = tiers.map((tier) => {
    const has = guestsOf(tier);
    const picked = guests ? guests.filter((g) => has.some((h) => h === g)) : has.slice(0, 1);
    if (has.length && !picked.length) {
      throw new ConfigError('lab.guest', guests!.join(','), `the ${tier} tier has none of these guests (it has ${has.join(', ')})`, `add --guest ${has[0]}, or leave --host ${tier} out of the plan`);
    }
    // An unknown tier keeps the default guest: its config fails below, naming the known tiers.
    return { tier, guests: picked.length ? picked : [defaults.guest] };
  });
  const unused = guests?.filter((g) => !tierGuests.some((t) => t.guests.some((h) => h === g)));
  if (unused?.length) throw new ConfigError('lab.guest', unused.join(','), 'no tier of the plan has this guest', `add the tier that has it (e.g. --host qemu for nixos), or drop --guest ${unused.join(',')}`);
  const include: CompareCell[] = [];
  for (const entry of entries) {
    for (const { tier, guests: gs } of tierGuests) {
      for (const guest of gs) {
        for (const arch of arches) {
          const fields = { label: entry.label, design: entry.design, v6only: entry.sets.length > 0, tier: tier as TierName, guest: guest as Guest, arch: arch as Arch };
          cellConfig(fields);
          include.push({ id: cellId(fields), ...fields, runner: RUNNER_OF_ARCH[fields.arch], ...(request.allowFailure ? { allowFailure: true as const } : {}) });
        }
      }
    }
  }
  return { include };
}

/** The cell an id names on its own (`v6egress@v6only--qemu-debian-aarch64`), validated as a plan of one. */
export function cellFromId(id: string): CompareCell {
  const at = id.lastIndexOf('--');
  const parts = at > 0 ? id.slice(at + 2).split('-') : [];
  if (parts.length !== 3) {
    throw new UsageError(`lab compare --cell: "${id}" is not a cell id (<design>[@v6only]--<tier>-<guest>-<arch>, e.g. v6egress--netns-debian-x86_64). Fix: take an id from pnpm lab compare --plan`);
  }
  const [tier, guest, arch] = parts as [string, string, string];
  const cell = planCells({ entries: [id.slice(0, at)], tiers: [tier], guests: [guest], arches: [arch] }).include[0]!;
  if (cell.id !== id) throw new UsageError(`lab compare --cell: "${id}" is not a cell id; that cell is ${cell.id}. Fix: take ids from pnpm lab compare --plan`);
  return cell;
}

/** The plan's cell with this id, or a UsageError listing the plan's ids. */
export function findCell(plan: CellPlan, id: string): CompareCell {
  const cell = plan.include.find((c) => c.id === id);
  if (!cell) {
    throw new UsageError(`lab compare --cell: "${id}" is not a cell of this plan. Its cells: ${plan.include.map((c) => c.id).join(', ')}. Fix: pass one of these ids, or the designs and --host/--guest/--arch of the plan that has it`);
  }
  return cell;
}
