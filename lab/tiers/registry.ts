/**
 * The one place tiers are registered. An unknown name fails with the list of known ones.
 * Adding a tier: its folder under lab/tiers/ (capabilities.ts, tier.ts, …) and one line here
 * (and its capability table in capabilities.ts).
 */
import { ConfigError } from '../errors.ts';
import type { LabState } from '../state/store.ts';
import type { LabConfig } from '../topology/config.ts';
import type { LabPlan } from '../topology/plan.ts';
import { netnsTier } from './netns/tier.ts';
import { qemuTier } from './qemu/tier.ts';
import type { Tier, WebArm } from './tier.ts';
import { vagrantTier } from './vagrant/tier.ts';

const TIERS = new Map<string, Tier>([netnsTier, qemuTier, vagrantTier].map((t) => [t.name, t as Tier]));

export function knownTiers(): string[] {
  return [...TIERS.keys()];
}

export function getTier(name: string): Tier {
  const tier = TIERS.get(name);
  if (!tier) throw new ConfigError('lab.tier', name, 'is not a known tier', `use one of: ${knownTiers().join(', ')}`);
  return tier;
}

export function tierOf(config: LabConfig): Tier {
  return getTier(config.lab.tier);
}

/** Whether two names are the same registered tier (`lab test --host X` expects the running lab on X); an unknown name fails with the known ones. */
export function sameTier(a: string, b: string): boolean {
  return getTier(a) === getTier(b);
}

/** Every registered tier (`down` asks each to remove what it may have made, by mark). */
export function allTiers(): Tier[] {
  return [...TIERS.values()];
}

/** The started web-arm of a lab that is up (from its crash record). */
export function attachWebArm(plan: LabPlan, state: LabState): WebArm {
  return tierOf(state.config).attach(plan, state);
}
