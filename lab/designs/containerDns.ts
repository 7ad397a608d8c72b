/**
 * Name resolution in a design's probe, as a declared verdict. The probe's resolvers are
 * aardvark-dns on its bridge, then the nameservers podman 4.3 appends (web-arm's: the lab DNS's
 * IPv6, then its IPv4). NixOS's firewall opens nothing for aardvark-dns on podman bridges
 * (nixpkgs' podman module opens only podman0, only with DNS on the default network): only
 * netavark's own accept (capability netavarkAcceptsDns: netavark 1.14's on qemu, the same rules
 * added by the lab's netavark wrapper on netns) or the host's
 * webArm.firewall.allowDnsOnPodmanBridges lets the queries through. Without either, the resolver
 * waits out both aardvark addresses and asks the third nameserver, the lab DNS over IPv6 (glibc
 * asks no more than three): a probe whose IPv6 egress does not work resolves nothing, so its
 * IPv4 egress by name and its mail fail (measured on netns with a bare netavark 1.4:
 * routed-subprefix). Pure.
 */
import type { LabConfig } from '../topology/config.ts';
import { capabilitiesOf, type Capabilities } from '../tiers/capabilities.ts';
import type { DeclaredVerdicts } from '../scenario/ids.ts';

type DnsCapability = Pick<Capabilities, 'netavarkAcceptsDns'>;

/** Nothing lets the probe's DNS queries reach aardvark-dns (nixpkgs#272480 bites). */
export function aardvarkDnsBlocked(config: LabConfig, capabilities: DnsCapability = capabilitiesOf(config)): boolean {
  return !capabilities.netavarkAcceptsDns && !config.webArm.firewall.allowDnsOnPodmanBridges;
}

/** The scenarios that need the probe to resolve names, declared failing where it cannot. */
export function containerDnsExpectations(config: LabConfig, containerIpv6EgressWorks: boolean, capabilities: DnsCapability = capabilitiesOf(config)): DeclaredVerdicts {
  return aardvarkDnsBlocked(config, capabilities) && !containerIpv6EgressWorks ? { 'egress-v4': 'fail', 'mail-from-container': 'fail' } : {};
}
