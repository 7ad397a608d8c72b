/**
 * What a tier needs of this machine beyond the lab's own packages, checked before `lab up`
 * creates anything: the qemu tier's guest architecture, nix and a nixpkgs for a NixOS guest,
 * vagrant with a provider and a NixOS box for the vagrant tier. A missing piece is a typed
 * error (ConfigError, HostError) saying what is missing and how to get it.
 */
import { checkNix, gatherNixFacts, type NixpkgsSource } from '../tiers/qemu/nixos/preflight.ts';
import { guestArchOf } from '../tiers/qemu/guestPower.ts';
import type { LabConfig } from '../topology/config.ts';
import { checkVagrant, gatherVagrantFacts } from '../tiers/vagrant/preflight.ts';
import type { VagrantChoice } from '../tiers/vagrant/vagrantPlan.ts';

export interface TierPrerequisites {
  vagrant?: VagrantChoice;
  nixpkgs?: NixpkgsSource;
}

export async function checkTierPrerequisites(config: LabConfig): Promise<TierPrerequisites> {
  const { tier, guest } = config.lab;
  if (tier === 'qemu') {
    guestArchOf(config);
    return guest === 'nixos' ? { nixpkgs: checkNix(await gatherNixFacts()) } : {};
  }
  if (tier === 'vagrant') return { vagrant: checkVagrant(await gatherVagrantFacts()) };
  return {};
}
