/**
 * What a topology variant changes in a design's declared verdicts, and the check that ties a
 * design to a variant. Pure.
 */
import { ConfigError } from '../errors.ts';
import type { DeclaredVerdicts } from '../scenario/ids.ts';
import type { LabConfig } from '../topology/config.ts';
import { isV6Only } from '../topology/v6only.ts';

/**
 * On the IPv6-only variant the live containers (podman's default network, IPv4 only) lose
 * their published ports (no host IPv4 to publish on) and, without a CLAT, their IPv4 egress;
 * postfix's mail cannot leave from web-arm's IPv4, which it no longer has.
 */
export function variantExpectations(config: LabConfig, options: { clat: boolean }): DeclaredVerdicts {
  if (!isV6Only(config)) return {};
  return {
    // The live containers' lost IPv4 is the same before and after a reboot: idempotent-reboot passes.
    'isolation-default': 'fail',
    'mail-path': 'fail',
    // No IPv4 to fall back to: a container's mail leaves from a GUA without reverse DNS.
    'mail-from-container': 'fail',
    ...(options.clat ? {} : { 'xlat-default-v4': 'fail' as const }),
  };
}

/** A design for the IPv6-only variant refuses a dual-stack web-arm. */
export function requireV6Only(config: LabConfig, design: string): void {
  if (!isV6Only(config)) {
    throw new ConfigError('topology.ipv4', config.topology.ipv4, `design ${design} is for an IPv6-only web-arm (with IPv4 on the uplink a CLAT has nothing to do)`, 'add --set topology.ipv4=false');
  }
}
