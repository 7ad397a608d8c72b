/**
 * ra-control's view of router discovery (scenarios/lib/routerDiscovery.ts): rdisc6's display of the
 * advertisement that answered its solicitation, and the solicitations and answers in a capture of
 * the router's port (as `tcpdump -nn -r` prints them; both seen in a real run). Pure.
 */
import { describe, expect, it } from 'vitest';
import { parseTcpdumpLines } from '../../lab/scenario/pcapText.ts';
import { parseRdisc6, routerDiscoveryExchange } from '../../scenarios/lib/routerDiscovery.ts';

const RDISC6 = `Soliciting ff02::2 (ff02::2) on eth0...

Hop limit                 :           64 (      0x40)
Stateful address conf.    :           No
Stateful other conf.      :           No
Mobile home agent         :           No
Router preference         :       medium
Neighbor discovery proxy  :           No
Router lifetime           :         1800 (0x00000708) seconds
Reachable time            :  unspecified (0x00000000)
Retransmit time           :  unspecified (0x00000000)
 Prefix                   : 2001:db8:5aac::/64
  On-link                 :          Yes
  Autonomous address conf.:          Yes
  Valid time              :        86400 (0x00015180) seconds
  Pref. time              :        14400 (0x00003840) seconds
 Source link-layer address: DE:4C:BC:0D:6E:69
 from fe80::1
`;

const CAPTURE = `11:48:45.139058 IP6 fe80::1 > ff02::1: ICMP6, router advertisement, length 56
11:48:45.152057 IP6 fe80::5480:87ff:fe47:6019 > ff02::2: ICMP6, router solicitation, length 8
11:48:45.152208 IP6 fe80::1 > fe80::5480:87ff:fe47:6019: ICMP6, router advertisement, length 56
11:48:45.188085 IP6 fe80::5480:87ff:fe47:6019 > ff02::2: ICMP6, router solicitation, length 8
11:48:45.190764 IP6 fe80::1 > fe80::5480:87ff:fe47:6019: ICMP6, router advertisement, length 56
11:48:45.222975 IP6 fe80::5480:87ff:fe47:6019 > ff02::2: ICMP6, router solicitation, length 8
11:48:45.223160 IP6 fe80::1 > fe80::5480:87ff:fe47:6019: ICMP6, router advertisement, length 56
`;

describe('parseRdisc6', () => {
  it('reads the router, its lifetime and the prefixes of the advertisement rdisc6 displayed', () => {
    expect(parseRdisc6(RDISC6)).toEqual({ from: 'fe80::1', routerLifetime: 1800, prefixes: ['2001:db8:5aac::/64'] });
  });

  it('reads nothing from a run that got no answer', () => {
    expect(parseRdisc6('Soliciting ff02::2 (ff02::2) on eth0...\nTimed out.\nTimed out.\nTimed out.\nNo response.\n')).toEqual({ from: undefined, routerLifetime: undefined, prefixes: [] });
  });

  it('reads a router lifetime of 0 (a router that is not a default router) as 0', () => {
    expect(parseRdisc6(RDISC6.replace('1800 (0x00000708)', '0 (0x00000000)')).routerLifetime).toBe(0);
  });
});

describe('routerDiscoveryExchange', () => {
  const host = 'fe80::5480:87ff:fe47:6019';

  it("tells the host's solicitations, the router's unicast answers to it and its multicast advertisements apart", () => {
    const exchange = routerDiscoveryExchange(parseTcpdumpLines(CAPTURE), host, 'fe80::1');
    expect(exchange.solicitations).toHaveLength(3);
    expect(exchange.answers).toHaveLength(3);
    expect(exchange.answers.every((r) => r.dst === host)).toBe(true);
    expect(exchange.multicast).toHaveLength(1);
  });

  it('counts no answer that came from another router or went to another host', () => {
    const other = CAPTURE.replaceAll('IP6 fe80::1 > fe80::5480', 'IP6 fe80::2 > fe80::5480');
    expect(routerDiscoveryExchange(parseTcpdumpLines(other), host, 'fe80::1').answers).toHaveLength(0);
    expect(routerDiscoveryExchange(parseTcpdumpLines(CAPTURE), 'fe80::9', 'fe80::1')).toMatchObject({ solicitations: [], answers: [] });
  });
});
