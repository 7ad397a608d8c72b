import { describe, expect, it } from 'vitest';
import { parseTcpdumpLines } from '../../lab/scenario/pcapText.ts';
import { diffSnapshots, snapshotSysctlKeys, type HostSnapshot } from '../../lab/scenario/observe/hostSnapshot.ts';

function snapshot(overrides: Partial<HostSnapshot> = {}): HostSnapshot {
  return {
    label: 'before-apply',
    takenAt: '2025-01-01T00:00:00.000Z',
    addresses: ['2a01:4f8:c012:43b::1/64 scope global', '203.0.113.10/32 scope global', 'fe80::9400:2ff:fec0:1243/64 scope link'],
    routes: ['2a01:4f8:c012:43b::/64 proto kernel metric 256 pref medium', 'default via fe80::1 metric 1024 pref medium', 'default via 172.31.1.1 onlink'],
    sysctls: {
      'net.ipv6.conf.all.forwarding': '0',
      'net.ipv6.conf.enp1s0.accept_ra': '0',
      'net.ipv4.ip_forward': '1',
    },
    ...overrides,
  };
}

describe('snapshotSysctlKeys', () => {
  it('covers accept_ra, forwarding, autoconf and proxy_ndp for all, default and the uplink, plus ip_forward', () => {
    const keys = snapshotSysctlKeys('enp1s0');
    expect(keys).toHaveLength(13);
    for (const dev of ['all', 'default', 'enp1s0']) {
      for (const k of ['accept_ra', 'forwarding', 'autoconf', 'proxy_ndp']) expect(keys).toContain(`net.ipv6.conf.${dev}.${k}`);
    }
    expect(keys.at(-1)).toBe('net.ipv4.ip_forward');
    expect(new Set(keys).size).toBe(keys.length);
    expect(snapshotSysctlKeys('eth0')).toContain('net.ipv6.conf.eth0.accept_ra');
    expect(snapshotSysctlKeys('eth0')).not.toContain('net.ipv6.conf.enp1s0.accept_ra');
  });
});

describe('diffSnapshots', () => {
  it('finds nothing between equal snapshots, whatever the label and time', () => {
    expect(diffSnapshots(snapshot(), snapshot({ label: 'after-reboot', takenAt: '2025-01-02T00:00:00.000Z' }))).toEqual([]);
  });

  it('ignores the order of addresses and routes', () => {
    const a = snapshot();
    const b = snapshot({ addresses: [...a.addresses].reverse(), routes: [...a.routes].reverse() });
    expect(diffSnapshots(a, b)).toEqual([]);
  });

  it('reports gone and new addresses and routes', () => {
    const a = snapshot();
    const b = snapshot({
      addresses: [a.addresses[0]!, a.addresses[2]!, '2a01:4f8:c012:43b:abcd::5/64 scope global dynamic'],
      routes: [a.routes[0]!, a.routes[2]!, 'default via fe80::2 proto ra metric 1024'],
    });
    expect(diffSnapshots(a, b)).toEqual([
      { field: 'address', before: '203.0.113.10/32 scope global', after: '(gone)' },
      { field: 'address', before: '(absent)', after: '2a01:4f8:c012:43b:abcd::5/64 scope global dynamic' },
      { field: 'route', before: 'default via fe80::1 metric 1024 pref medium', after: '(gone)' },
      { field: 'route', before: '(absent)', after: 'default via fe80::2 proto ra metric 1024' },
    ]);
  });

  it('reports changed, new and missing sysctls, sorted by name', () => {
    const a = snapshot();
    const b = snapshot({
      sysctls: {
        'net.ipv6.conf.enp1s0.accept_ra': '2',
        'net.ipv6.conf.all.forwarding': '1',
        'net.ipv6.conf.default.forwarding': '1',
      },
    });
    expect(diffSnapshots(a, b)).toEqual([
      { field: 'net.ipv4.ip_forward', before: '1', after: '(absent)' },
      { field: 'net.ipv6.conf.all.forwarding', before: '0', after: '1' },
      { field: 'net.ipv6.conf.default.forwarding', before: '(absent)', after: '1' },
      { field: 'net.ipv6.conf.enp1s0.accept_ra', before: '0', after: '2' },
    ]);
  });

  it('is symmetric: swapping the snapshots swaps before and after', () => {
    const a = snapshot();
    const b = snapshot({ addresses: [], sysctls: { ...a.sysctls, 'net.ipv4.ip_forward': '0' } });
    const ab = diffSnapshots(a, b);
    const ba = diffSnapshots(b, a);
    expect(ab).toHaveLength(4);
    expect(ba).toHaveLength(4);
    const flip = (d: { before: string; after: string }) => ({
      before: d.after === '(gone)' ? '(absent)' : d.after,
      after: d.before === '(absent)' ? '(gone)' : d.before,
    });
    expect(ba.map((d) => ({ field: d.field, ...flip(d) }))).toEqual(expect.arrayContaining(ab));
  });
});

describe('parseTcpdumpLines', () => {
  // As printed by `tcpdump -nn -l` (with and without `-i any` direction marks).
  const capture = [
    'tcpdump: verbose output suppressed, use -v[v]... for full protocol decode',
    'listening on enp1s0, link-type EN10MB (Ethernet), snapshot length 262144 bytes',
    '12:00:00.000001 IP6 2a01:4f8:c012:43b::1.43210 > 2001:db8:ffff::80.80: Flags [S], seq 3055113516, win 64800, options [mss 1440,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0',
    '12:00:00.000150 IP6 2001:db8:ffff::80.80 > 2a01:4f8:c012:43b::1.43210: Flags [S.], seq 1, ack 3055113517, win 64260, length 0',
    '12:00:00.100000 IP6 2A01:4F8:C012:43B::1 > 2001:DB8:FFFF::80: ICMP6, echo request, id 7, seq 1, length 64',
    '12:00:00.100100 IP6 2001:db8:ffff::80 > 2a01:4f8:c012:43b::1: ICMP6, echo reply, id 7, seq 1, length 64',
    '12:00:00.200000 IP6 fe80::1 > ff02::1: ICMP6, router advertisement, length 56',
    '12:00:00.300000 ARP, Request who-has 172.31.1.1 tell 203.0.113.10, length 28',
    '12:00:00.300050 ARP, Reply 172.31.1.1 is-at 02:00:00:00:00:01, length 28',
    '12:00:00.400000 IP 203.0.113.10.51234 > 198.51.100.53.53: 1234+ A? v4only.example. (32)',
    '12:00:00.400300 IP 198.51.100.53.53 > 203.0.113.10.51234: 1234 1/0/0 A 198.51.100.80 (48)',
    '12:00:00.500000 enp1s0 Out IP 203.0.113.10 > 198.51.100.80: ICMP echo request, id 9, seq 1, length 64',
    '',
    '12 packets captured',
  ].join('\n');
  const rows = parseTcpdumpLines(capture);

  it('reads only IP and IP6 packet lines (not ARP, banners or counters)', () => {
    expect(rows).toHaveLength(8);
    expect(rows.map((r) => r.family)).toEqual([6, 6, 6, 6, 6, 4, 4, 4]);
    expect(rows.some((r) => /ARP|who-has|is-at/.test(r.summary))).toBe(false);
  });

  it('splits IPv6 TCP addresses from their ports', () => {
    expect(rows[0]).toEqual({
      family: 6,
      src: '2a01:4f8:c012:43b::1',
      dst: '2001:db8:ffff::80',
      summary: 'Flags [S], seq 3055113516, win 64800, options [mss 1440,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0',
    });
    expect(rows[1]).toMatchObject({ src: '2001:db8:ffff::80', dst: '2a01:4f8:c012:43b::1' });
    expect(rows[1]!.summary.startsWith('Flags [S.]')).toBe(true);
  });

  it('reads ICMP6 lines without ports and lowercases IPv6 addresses', () => {
    expect(rows[2]).toEqual({ family: 6, src: '2a01:4f8:c012:43b::1', dst: '2001:db8:ffff::80', summary: 'ICMP6, echo request, id 7, seq 1, length 64' });
    expect(rows[3]).toMatchObject({ src: '2001:db8:ffff::80', dst: '2a01:4f8:c012:43b::1', summary: 'ICMP6, echo reply, id 7, seq 1, length 64' });
    expect(rows[4]).toMatchObject({ src: 'fe80::1', dst: 'ff02::1', summary: 'ICMP6, router advertisement, length 56' });
  });

  it('reads IPv4 UDP with ports, and IPv4 ICMP with a direction mark', () => {
    expect(rows[5]).toEqual({ family: 4, src: '203.0.113.10', dst: '198.51.100.53', summary: '1234+ A? v4only.example. (32)' });
    expect(rows[6]).toMatchObject({ family: 4, src: '198.51.100.53', dst: '203.0.113.10' });
    expect(rows[7]).toEqual({ family: 4, src: '203.0.113.10', dst: '198.51.100.80', summary: 'ICMP echo request, id 9, seq 1, length 64' });
  });

  it('gives nothing for empty or non-packet text', () => {
    expect(parseTcpdumpLines('')).toEqual([]);
    expect(parseTcpdumpLines('12:00:00.0 ARP, Request who-has 10.0.0.1 tell 10.0.0.2, length 28\n')).toEqual([]);
  });
});
