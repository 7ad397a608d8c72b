/**
 * The one place designs are registered. An unknown name fails with the list of known ones.
 */
import { ConfigError } from '../errors.ts';
import type { LabConfig } from '../topology/config.ts';
import type { Design, DesignPlan, HostLayout } from './design.ts';
import { dockerRoutedNdp } from './dockerRoutedNdp.ts';
import { dockerUlaPortfwd } from './dockerUlaPortfwd.ts';
import { routedSubprefix, routedSubprefixNdp } from './routedSubprefix.ts';
import { v6egress } from './v6egress.ts';
import { clat464xlat } from './clat464xlat.ts';
import { nspawnDelegated, nspawnUlaNat } from './nspawn.ts';

// Each design validates its own params type; the registry only needs parse → plan.
const designs = new Map<string, Design<unknown>>(
  [v6egress, routedSubprefix, routedSubprefixNdp, dockerRoutedNdp, dockerUlaPortfwd, clat464xlat, nspawnUlaNat, nspawnDelegated].map((d) => [d.name, d as Design<unknown>]),
);

export function knownDesigns(): string[] {
  return [...designs.keys()];
}

export function getDesign(name: string): Design<unknown> {
  const design = designs.get(name);
  if (!design) {
    throw new ConfigError('design.name', name, 'is not a known design', `use one of: ${knownDesigns().join(', ')}`);
  }
  return design;
}

/** Validates the config's design params; throws ConfigError before anything is created. */
export function validateDesign(config: LabConfig): unknown {
  return getDesign(config.design.name).parseParams(config.design.params, config);
}

export function planDesign(config: LabConfig, layout: HostLayout): DesignPlan {
  const design = getDesign(config.design.name);
  return design.plan(design.parseParams(config.design.params, config), config, layout);
}
