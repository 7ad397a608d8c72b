/**
 * Router discovery as ra-control observes it: what `rdisc6` printed for the advertisement that
 * answered its solicitation, and the solicitations and advertisements a capture on the router's
 * port saw (tcpdump rows). Pure.
 */
import type { PacketRow } from '../../lab/scenario/pcapText.ts';

export interface SolicitedAdvertisement {
  /** The router's address the advertisement came from. */
  from: string | undefined;
  /** Router lifetime in seconds (0: not a default router). */
  routerLifetime: number | undefined;
  prefixes: string[];
}

/** Reads `rdisc6 -1 -n <iface>`'s display of the first advertisement it received. */
export function parseRdisc6(out: string): SolicitedAdvertisement {
  const from = /^\s*from (\S+)/m.exec(out)?.[1];
  const lifetime = /^\s*Router lifetime\s*:\s*(\d+)/m.exec(out)?.[1];
  const prefixes = [...out.matchAll(/^\s*Prefix\s*:\s*(\S+)/gm)].map((m) => m[1]!);
  return { from, routerLifetime: lifetime === undefined ? undefined : Number(lifetime), prefixes };
}

export interface RouterDiscoveryExchange {
  /** Router solicitations the host sent. */
  solicitations: PacketRow[];
  /** Router advertisements sent to the host's own address: answers to it, not periodic multicasts. */
  answers: PacketRow[];
  /** Router advertisements to all nodes (ff02::1): unsolicited, or answers to a solicitation from ::. */
  multicast: PacketRow[];
}

/** The host's solicitations and the router's advertisements in a capture of the link between them. */
export function routerDiscoveryExchange(rows: readonly PacketRow[], host: string, router: string): RouterDiscoveryExchange {
  const is = (row: PacketRow, what: string) => row.family === 6 && row.summary.includes(`ICMP6, router ${what}`);
  return {
    solicitations: rows.filter((r) => is(r, 'solicitation') && r.src === host),
    answers: rows.filter((r) => is(r, 'advertisement') && r.src === router && r.dst === host),
    multicast: rows.filter((r) => is(r, 'advertisement') && r.src === router && r.dst === 'ff02::1'),
  };
}
