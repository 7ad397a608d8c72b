/**
 * Idempotency as before = after (lab/scenario/beforeAfter.ts): readings compared by property,
 * order ignored, repeats counted; the evidence's words; a failing probe is a value like any
 * other; firewall rules read by container name. Pure.
 */
import { describe, expect, it } from 'vitest';
import { compareReadings, describeComparison, describeLines, outcomeLine, rulesByName, summarizeComparisons, withoutEmptyChains, withoutIptablesNftTables, type PropertyReading } from '../../lab/scenario/beforeAfter.ts';

const reading = (property: string, lines: string[]): PropertyReading => ({ property, node: 'web-arm', command: `read ${property}`, lines });

describe('compareReadings', () => {
  it('a property with the same lines in another order is unchanged; a failing probe that fails the same way too', () => {
    const [rules, egress] = compareReadings(
      [reading('rules', ['a', 'b', 'b']), reading('egress', ['the target saw: fails (exit 28)'])],
      [reading('rules', ['b', 'a', 'b']), reading('egress', ['the target saw: fails (exit 28)'])],
    );
    expect(rules).toMatchObject({ property: 'rules', same: true, gone: [], added: [] });
    expect(egress!.same).toBe(true);
  });

  it('counts repeats: a duplicated rule is a change', () => {
    const [rules] = compareReadings([reading('rules', ['-A X -j ACCEPT'])], [reading('rules', ['-A X -j ACCEPT', '-A X -j ACCEPT'])]);
    expect(rules).toMatchObject({ same: false, gone: [], added: ['-A X -j ACCEPT'] });
  });

  it('says what went and what came, and a property read on one side only is a change', () => {
    const out = compareReadings(
      [reading('egress', ['the target saw: ok, 2a01:4f8:c012:43b::1']), reading('containers', ['collabora podman'])],
      [reading('egress', ['the target saw: fails (exit 28)'])],
    );
    expect(out.map((c) => [c.property, c.same])).toEqual([
      ['egress', false],
      ['containers', false],
    ]);
    expect(out[0]).toMatchObject({ gone: ['the target saw: ok, 2a01:4f8:c012:43b::1'], added: ['the target saw: fails (exit 28)'] });
    expect(out[1]).toMatchObject({ gone: ['collabora podman'], added: [], after: [] });
  });
});

describe('the evidence', () => {
  it('words an unchanged property once and a changed one as gone | new', () => {
    const [same, changed] = compareReadings(
      [reading('network', ['3f2a v6 10.89.0.0/24']), reading('egress', ['ok, 2a01::1'])],
      [reading('network', ['3f2a v6 10.89.0.0/24']), reading('egress', ['fails (exit 7)'])],
    );
    expect(describeComparison(same!)).toEqual({ expected: 'after as before: 3f2a v6 10.89.0.0/24', seen: 'unchanged: 3f2a v6 10.89.0.0/24' });
    expect(describeComparison(changed!).seen).toBe('changed — gone: ok, 2a01::1 | new: fails (exit 7)');
    expect(summarizeComparisons('reboot', [same!, changed!])).toEqual({ ok: false, seen: '1 of 2 changed by the reboot: egress' });
    expect(summarizeComparisons('reboot', [same!])).toEqual({ ok: true, seen: 'all 1 properties as before the reboot' });
  });

  it('shortens long values and names nothing as such', () => {
    expect(describeLines(['a', 'b', 'c', 'd', 'e', 'f'], 2)).toBe('a; b (+4 more, 6 in all)');
    expect(describeLines([])).toBe('(nothing)');
  });

  it("a command's outcome: its first line when it succeeds, only its exit code when it fails", () => {
    expect(outcomeLine('the target saw', { exitCode: 0, stdout: '2a01:4f8:c012:43b::1\n' })).toBe('the target saw: ok, 2a01:4f8:c012:43b::1');
    expect(outcomeLine('the target saw', { exitCode: 28, stdout: '' })).toBe('the target saw: fails (exit 28)');
  });
});

describe('rulesByName', () => {
  it("replaces the containers' addresses by their names, whole addresses only, and sorts", () => {
    const rules = [
      'ip4 nat -A NETAVARK-DN-1 -p tcp -m tcp --dport 9980 -j DNAT --to-destination 10.88.0.10:9980',
      'ip4 filter -A NETAVARK_FORWARD -d 10.88.0.1/32 -j ACCEPT',
      'ip6 nat -A X -s fdaa:bbcc:ddee::2/128 -j MASQUERADE',
      'ip4 nat -A Y -s 10.88.0.0/16 -j MASQUERADE',
    ];
    const named = rulesByName(rules, [
      { name: 'collabora', id: '', addresses: ['10.88.0.10'] },
      { name: 'rustdesk', id: '', addresses: ['10.88.0.1'] },
      { name: 'v6probe', id: '', addresses: ['fdaa:bbcc:ddee::2', ''] },
    ]);
    expect(named).toEqual([
      'ip4 filter -A NETAVARK_FORWARD -d <rustdesk>/32 -j ACCEPT',
      'ip4 nat -A NETAVARK-DN-1 -p tcp -m tcp --dport 9980 -j DNAT --to-destination <collabora>:9980',
      'ip4 nat -A Y -s 10.88.0.0/16 -j MASQUERADE',
      'ip6 nat -A X -s <v6probe>/128 -j MASQUERADE',
    ]);
  });

  it('two containers started anew after a reboot, with new IDs and swapped addresses, give the same rules', () => {
    const comment = (id: string) => `-m comment --comment "dnat name: podman id: ${id}"`;
    const [id1, id2, id3, id4] = ['a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64), 'd'.repeat(64)];
    const before = rulesByName([`-d 10.88.0.2/32 ${comment(id1)} -j A`, `-d 10.88.0.3/32 ${comment(id2)} -j B`], [
      { name: 'c1', id: id1, addresses: ['10.88.0.2'] },
      { name: 'c2', id: id2, addresses: ['10.88.0.3'] },
    ]);
    const after = rulesByName([`-d 10.88.0.3/32 ${comment(id3)} -j A`, `-d 10.88.0.2/32 ${comment(id4)} -j B`], [
      { name: 'c1', id: id3, addresses: ['10.88.0.3'] },
      { name: 'c2', id: id4, addresses: ['10.88.0.2'] },
    ]);
    expect(after).toEqual(before);
    expect(before[0]).toBe('-d <c1>/32 -m comment --comment "dnat name: podman id: <c1>" -j A');
  });
});

describe('withoutEmptyChains', () => {
  it('leaves out user chains nothing uses (netavark leaves them when the last publishing container stops), keeps the rest', () => {
    const rules = [
      'ip4 nat :PREROUTING ACCEPT [0:0]',
      'ip4 nat :NETAVARK-DN-1DB9FC3268334 - [0:0]',
      'ip4 nat :NETAVARK-HOSTPORT-DNAT - [0:0]',
      'ip4 nat :NETAVARK-DN-AAA - [0:0]',
      'ip4 nat -A PREROUTING -j NETAVARK-HOSTPORT-DNAT',
      'ip4 nat -A NETAVARK-HOSTPORT-DNAT -p tcp --dport 9980 -j NETAVARK-DN-AAA',
      'ip4 nat -A NETAVARK-DN-AAA -j DNAT --to-destination 10.88.0.2:9980',
      'ip6 nat :NETAVARK-DN-1DB9FC3268334 - [0:0]',
      'nft table inet netavark {',
      'nft chain NETAVARK-DN-1DB9FC3268334 {',
      'nft }',
      'nft chain NETAVARK-HOSTPORT-DNAT {',
      'nft tcp dport 9980 jump NETAVARK-DN-AAA',
      'nft }',
      'nft }',
    ];
    expect(withoutEmptyChains(rules)).toEqual([
      'ip4 nat :PREROUTING ACCEPT [0:0]',
      'ip4 nat :NETAVARK-HOSTPORT-DNAT - [0:0]',
      'ip4 nat :NETAVARK-DN-AAA - [0:0]',
      'ip4 nat -A PREROUTING -j NETAVARK-HOSTPORT-DNAT',
      'ip4 nat -A NETAVARK-HOSTPORT-DNAT -p tcp --dport 9980 -j NETAVARK-DN-AAA',
      'ip4 nat -A NETAVARK-DN-AAA -j DNAT --to-destination 10.88.0.2:9980',
      'nft table inet netavark {',
      'nft chain NETAVARK-HOSTPORT-DNAT {',
      'nft tcp dport 9980 jump NETAVARK-DN-AAA',
      'nft }',
      'nft }',
    ]);
  });

  it('keeps an empty chain something jumps to (a rule could be added to it)', () => {
    const rules = ['ip4 filter :DOCKER-USER - [0:0]', 'ip4 filter -A FORWARD -j DOCKER-USER'];
    expect(withoutEmptyChains(rules)).toEqual(rules);
  });
});

describe('withoutIptablesNftTables', () => {
  it("leaves out nft's view of iptables-nft's tables (iptables-save lists them), keeps native tables", () => {
    const rules = [
      'nft table ip nat {',
      'nft chain POSTROUTING {',
      'nft type nat hook postrouting priority srcnat; policy accept;',
      'nft ip saddr 172.17.0.0/16 oifname != "docker0" counter xt target "MASQUERADE"',
      'nft }',
      'nft }',
      'nft table inet netavark {',
      'nft chain NETAVARK-FORWARD {',
      'nft ip6 saddr fdaa:bbcc:ddee::/64 accept',
      'nft }',
      'nft }',
      'nft table ip6 filter {',
      'nft }',
      'ip4 nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE',
    ];
    expect(withoutIptablesNftTables(rules)).toEqual([
      'nft table inet netavark {',
      'nft chain NETAVARK-FORWARD {',
      'nft ip6 saddr fdaa:bbcc:ddee::/64 accept',
      'nft }',
      'nft }',
      'ip4 nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE',
    ]);
  });
});
