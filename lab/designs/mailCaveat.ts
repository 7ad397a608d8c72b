/**
 * The ADR's mail caveat as a declared verdict (mail-from-container): where a design gives the
 * container working IPv6 egress, a mail client that prefers IPv6 (as many MTAs do) sends from an
 * address without reverse DNS — the host GUA behind NAT66, or the container's own routed GUA —
 * so the MX finds no forward-confirmed rDNS. Where the container's IPv6 egress does not work,
 * that client falls back to IPv4, web-arm's, which has the provider's rDNS. (A client taking the
 * resolver's order goes over IPv4 from a ULA source anyway: RFC 6724.) Pure.
 */
import type { DeclaredVerdicts } from '../scenario/ids.ts';

export function mailCaveatExpectations(containerIpv6EgressWorks: boolean): DeclaredVerdicts {
  return containerIpv6EgressWorks ? { 'mail-from-container': 'fail' } : {};
}
