import { describe, expect, it } from 'vitest';
import { parseTimedLines, type TimedPacket } from '../../lab/scenario/pcapText.ts';
import { stoppable } from '../../lab/scenario/witness.ts';
import { decideWitness, describeWitness, type PassageMatch } from '../../lab/scenario/witnessVerdict.ts';

const GUA = '2a01:4f8:c012:43b::1';
const CLIENT = '2001:db8:ffff::c';
const PROBE = 'fdaa:bbcc:ddee::2';

// As printed by `tcpdump -tt -nn -r` on the router's side of the uplink and on web-arm's bridge.
const entryText = [
  'reading from file entry.pcap, link-type EN10MB (Ethernet), snapshot length 262144',
  `1700000000.100000 IP6 ${CLIENT}.40000 > ${GUA}.8080: Flags [S], seq 1, win 64800, length 0`,
  `1700000000.300000 IP6 ${CLIENT}.40000 > ${GUA}.8080: Flags [S], seq 1, win 64800, length 0`,
  '1700000000.350000 IP 198.51.100.10.40001 > 203.0.113.10.8080: Flags [S], seq 9, win 64240, length 0',
  '1700000000.360000 ARP, Request who-has 172.31.1.1 tell 203.0.113.10, length 28',
  'tcpdump: pcap_loop: truncated dump file; tried to read 80 captured bytes, only got 12',
].join('\n');

const inbound: PassageMatch = {
  entered: (r) => r.dst === GUA && r.dport === 8080 && r.summary.startsWith('Flags [S]'),
  left: (r) => r.src === CLIENT && r.dport === 8080,
};

function row(at: number, src: string, dst: string, dport?: number, summary = 'Flags [S], seq 1'): TimedPacket {
  return { family: 6, src, dst, summary, at, ...(dport === undefined ? {} : { dport }) };
}

describe('parseTimedLines', () => {
  const rows = parseTimedLines(entryText);

  it('reads epoch-stamped IP and IP6 lines with their ports, skipping banners, ARP and a truncated tail', () => {
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual({ family: 6, src: CLIENT, dst: GUA, sport: 40000, dport: 8080, at: 1700000000.1, summary: 'Flags [S], seq 1, win 64800, length 0' });
    expect(rows[2]).toMatchObject({ family: 4, src: '198.51.100.10', dst: '203.0.113.10', sport: 40001, dport: 8080 });
  });

  it('gives ICMP rows no ports, and ignores lines without an epoch stamp (tcpdump without -tt)', () => {
    const icmp = parseTimedLines(`1700000001.000000 IP6 ${GUA} > ${CLIENT}: ICMP6, echo reply, id 7, seq 1, length 64`);
    expect(icmp).toEqual([{ family: 6, src: GUA, dst: CLIENT, summary: 'ICMP6, echo reply, id 7, seq 1, length 64', at: 1700000001 }]);
    expect(parseTimedLines(`12:00:00.000001 IP6 ${CLIENT}.1 > ${GUA}.2: Flags [S]`)).toEqual([]);
  });
});

describe('decideWitness', () => {
  const entry = parseTimedLines(entryText);

  it('dropped: seen entering, nothing left within the bound after the first sighting', () => {
    const v = decideWitness(entry, [], inbound, 1700000000.45, 300);
    expect(v).toMatchObject({ kind: 'dropped', boundMs: 300 });
    expect(v.kind === 'dropped' && v.entered.at).toBe(1700000000.1);
  });

  it('undecided while the bound has not passed since the packet entered', () => {
    expect(decideWitness(entry, [], inbound, 1700000000.3, 300)).toEqual({ kind: 'undecided', entered: entry[0], watchedMs: 200 });
  });

  it('forwarded: the packet left (after DNAT, toward the probe) after it entered', () => {
    const exit = [row(1700000000.1005, CLIENT, PROBE, 8080)];
    expect(decideWitness(entry, exit, inbound, 1700000001, 300)).toEqual({ kind: 'forwarded', entered: entry[0], left: exit[0] });
  });

  it('a leaving packet of something else, or from before the entry, does not count', () => {
    const exit = [row(1700000000.05, CLIENT, PROBE, 8080), row(1700000000.2, 'fdaa:bbcc:ddee::1', PROBE, 8080), row(1700000000.2, CLIENT, PROBE, 9090)];
    expect(decideWitness(entry, exit, inbound, 1700000000.5, 300).kind).toBe('dropped');
  });

  it('a packet leaving after what was watched does not count (the decision stands on what was watched)', () => {
    const exit = [row(1700000000.6, CLIENT, PROBE, 8080)];
    expect(decideWitness(entry, exit, inbound, 1700000000.5, 300).kind).toBe('dropped');
    expect(decideWitness(entry, exit, inbound, 1700000000.7, 300).kind).toBe('forwarded');
  });

  it('not-seen when nothing matching entered (the probe\'s own timeout decides)', () => {
    expect(decideWitness(entry.filter((r) => r.family === 4), [], inbound, 1700000009, 300)).toEqual({ kind: 'not-seen' });
    expect(decideWitness([], [row(1700000000.2, CLIENT, PROBE, 8080)], inbound, 1700000009, 300)).toEqual({ kind: 'not-seen' });
  });

  it('one capture for both: a request that left un-NATed and an answer that never came back', () => {
    const ula = 'fdaa:bbcc:ddee::2';
    const target = '2001:db8:ffff::80';
    const match: PassageMatch = { entered: (r) => r.src === ula && r.dst === target && r.dport === 80, left: (r) => r.src === target && r.dst === ula };
    const rows = [row(10, ula, target, 80), row(10.2, ula, target, 80)];
    expect(decideWitness(rows, rows, match, 10.4, 300).kind).toBe('dropped');
    const answered = [...rows, { ...row(10.001, target, ula), sport: 80 }];
    expect(decideWitness(answered, answered, match, 10.4, 300).kind).toBe('forwarded');
  });
});

describe('describeWitness', () => {
  const entry = parseTimedLines(entryText);

  it('says where the packet was seen, and for how long nothing left', () => {
    const text = describeWitness(decideWitness(entry, [], inbound, 1700000000.5, 300), 'upstream web-arm', 'web-arm podman1');
    expect(text).toBe(`dropped: seen entering on upstream web-arm [${CLIENT}.40000 > ${GUA}.8080 Flags [S]], nothing left on web-arm podman1 within 300 ms after it`);
  });

  it('says when the timeout decided and when the packet left', () => {
    expect(describeWitness({ kind: 'not-seen' }, 'upstream web-arm', 'web-arm podman1')).toContain("the probe's own result decided (as without a witness: its failure or its timeout)");
    const left = describeWitness(decideWitness(entry, [row(1700000000.15, CLIENT, PROBE, 8080)], inbound, 1700000001, 300), 'a', 'b');
    expect(left).toMatch(/^not dropped: .* leaving on b 50 ms later/);
  });
});

describe('stoppable', () => {
  it('wraps the probe inside its exec prefix, and a stop ends it with 143 (never 137, the guest agent\'s own timeout)', () => {
    const w = stoppable({ machine: undefined as never, exec: 'podman exec probe', command: 'curl -6 -sS -m 3 http://[2001:db8:ffff::80]/' }, '/tmp/w.pid');
    expect(w.start).toBe(
      "podman exec probe sh -c 'curl -6 -sS -m 3 http://[2001:db8:ffff::80]/ & echo $! > /tmp/w.pid; wait $!; s=$?; if [ -e /tmp/w.pid.stop ]; then s=143; echo \"stopped by the drop witness\" >&2; fi; rm -f /tmp/w.pid /tmp/w.pid.stop; exit $s'",
    );
    expect(w.stop).toBe("podman exec probe sh -c 'touch /tmp/w.pid.stop; kill -KILL $(cat /tmp/w.pid 2>/dev/null) 2>/dev/null; true'");
  });

  it('refuses a probe holding single quotes (it could not be wrapped)', () => {
    expect(() => stoppable({ machine: undefined as never, command: "sh -c 'x'" }, '/tmp/w.pid')).toThrow(/single quotes/);
  });
});
