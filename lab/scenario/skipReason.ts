/**
 * Pure: why a scenario will not run on a lab, decided from its registry entry, web-arm's
 * capabilities, the lab's configuration and the design's declaration alone, in the order the
 * scenario itself checks them (define.ts): a capability it needs, a reason of the scenario
 * file's own (`appliesTo`, known only where the file runs), a topology variant or design it is
 * not for, a skip the design declares. `lab test --parallel` (forks.ts) asks the same question
 * without the scenario file to weigh a scenario that will not run as nothing.
 */
import type { Capabilities } from '../tiers/capabilityTypes.ts';
import type { LabConfig } from '../topology/config.ts';
import type { ScenarioEntry } from './registry.ts';

export interface SkipReason {
  /** The verdict's summary. */
  summary: string;
  /** The test runner's skip note. */
  why: string;
}

export interface SkipQuestion {
  entry: Pick<ScenarioEntry, 'requires' | 'variant'>;
  capabilities: Capabilities;
  tier: string;
  config: LabConfig;
  design: string;
  /** The design's declared verdict for the scenario, if any. */
  expected: string | undefined;
  /** The scenario file's own reason (appliesTo), where it is known: asked only when the capability is there. */
  notApplicable?: () => string | undefined;
}

export function skipReason(q: SkipQuestion): SkipReason | undefined {
  const requires = q.entry.requires;
  if (requires && !q.capabilities[requires.capability]) {
    return { summary: `needs ${requires.capability}, which web-arm has not on the ${q.tier} tier: ${requires.why}`, why: `no ${requires.capability} on the ${q.tier} tier` };
  }
  const notApplicable = q.notApplicable?.();
  if (notApplicable) return { summary: `does not apply here: ${notApplicable}`, why: notApplicable };
  if (q.entry.variant && !q.entry.variant.test(q.config)) return { summary: `does not apply here: ${q.entry.variant.why}`, why: 'not on this topology variant or design' };
  if (q.expected === 'skipped') return { summary: `does not apply to design ${q.design} (declared by the design)`, why: `does not apply to design ${q.design}` };
  return undefined;
}
