/**
 * Capabilities: what web-arm can do on the tier a config names, known before anything starts.
 * Designs, scenarios and verbs ask these instead of comparing tier or guest names; each tier
 * states its own (lab/tiers/<tier>/capabilities.ts), and this is the one place that picks the
 * tier's table. Pure.
 */
import { ConfigError } from '../errors.ts';
import type { Tier as TierName } from '../report/model.ts';
import type { LabConfig } from '../topology/config.ts';
import { netnsCapabilities } from './netns/capabilities.ts';
import { qemuCapabilities } from './qemu/capabilities.ts';
import { vagrantCapabilities } from './vagrant/capabilities.ts';
import type { Capabilities, CapabilityName } from './capabilityTypes.ts';

export type { Capabilities, CapabilityName } from './capabilityTypes.ts';

const TABLES: Record<TierName, (config: LabConfig) => Capabilities> = {
  netns: netnsCapabilities,
  qemu: qemuCapabilities,
  vagrant: vagrantCapabilities,
};

export function capabilitiesOf(config: LabConfig): Capabilities {
  return TABLES[config.lab.tier](config);
}

/**
 * A design or option that needs a capability refuses a lab without it, before anything is
 * created: the error names the tier setting and how to get a web-arm that has it.
 */
export function requireCapability(config: LabConfig, capability: CapabilityName, what: string, why: string): void {
  if (capabilitiesOf(config)[capability]) return;
  const guests: Array<LabConfig['lab']['guest']> = ['debian', 'nixos'];
  const with_ = (tier: TierName, guest: LabConfig['lab']['guest']) => TABLES[tier]({ ...config, lab: { ...config.lab, tier, guest } })[capability];
  const otherGuest = guests.find((guest) => guest !== config.lab.guest && with_(config.lab.tier, guest));
  const tiers = (Object.keys(TABLES) as TierName[]).filter((tier) => tier !== config.lab.tier && guests.some((guest) => with_(tier, guest)));
  const fixes = [...(otherGuest ? [`--guest ${otherGuest}`] : []), ...tiers.map((tier) => `--host ${tier}`)];
  throw new ConfigError(
    otherGuest ? 'lab.guest' : 'lab.tier',
    otherGuest ? config.lab.guest : config.lab.tier,
    `${what} needs ${capability} (${why}), which web-arm does not have on the ${config.lab.tier} tier with the ${config.lab.guest} guest`,
    fixes.length ? `use ${fixes.join(' or ')}` : `no tier of this lab has ${capability} yet`,
  );
}

type Guest = LabConfig['lab']['guest'];

/** The guest kinds each tier has (the first is its default): namespaces have none but the machine's Debian, the Vagrant box is NixOS. */
const GUESTS: Record<TierName, readonly Guest[]> = {
  netns: ['debian'],
  qemu: ['debian', 'nixos'],
  vagrant: ['nixos'],
};

const GUEST_WHY: Record<TierName, string> = {
  netns: 'the netns tier has no guest OS (web-arm is namespaces with emulated systemd)',
  qemu: '',
  vagrant: "the vagrant tier's web-arm is a NixOS box",
};

/** The guest kinds a tier has, its default first (none for an unknown tier name). */
export function guestsOf(tier: string): readonly Guest[] {
  return (GUESTS as Record<string, readonly Guest[] | undefined>)[tier] ?? [];
}

/** The guest a tier runs unless told otherwise (`--host vagrant` means NixOS). */
export function defaultGuestOf(tier: string): Guest | undefined {
  return guestsOf(tier)[0];
}

/** The guest and the options that depend on the tier fit it; a ConfigError names the field and the fix. */
export function checkTierConfig(config: LabConfig): void {
  const { tier, guest } = config.lab;
  if (!GUESTS[tier].includes(guest)) {
    const others = (Object.keys(GUESTS) as TierName[]).filter((t) => t !== tier && GUESTS[t].includes(guest));
    // A tier with one guest picks it itself: `--host vagrant` alone means NixOS.
    const sets = GUESTS[tier].length === 1 ? ` (--host ${tier} sets it)` : '';
    throw new ConfigError('lab.guest', guest, GUEST_WHY[tier], [`use --guest ${GUESTS[tier].join(' or --guest ')}${sets}`, ...others.map((t) => `--host ${t}`)].join(', or '));
  }
  const driver = config.webArm.podman.firewallDriver;
  if (driver === 'nftables' && !capabilitiesOf(config).netavarkNftables) {
    throw new ConfigError(
      'webArm.podman.firewallDriver',
      driver,
      `is not available on the ${tier} tier: web-arm's podman there is this machine's netavark, which has the iptables driver only`,
      'use --host qemu (netavark 1.14 in the trixie guest has both drivers), or leave it at iptables',
    );
  }
}
