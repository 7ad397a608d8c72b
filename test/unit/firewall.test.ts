/**
 * web-arm's firewall as nixos-25.11 writes it (lab/designs/firewall.ts): golden files of the
 * start, reload and stop scripts and of firewall.service, each named after the nixpkgs file and
 * commit it mirrors, and the option logic NixOS's module applies. Pure (sh -n only).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  firewallInterfaces,
  NIXOS_PODMAN_DEFAULT_NETWORK,
  NIXPKGS_FIREWALL_SOURCES,
  renderFirewallStart,
  renderFirewallStop,
  renderNixosFirewall,
  type FirewallPolicy,
} from '../../lab/designs/firewall.ts';
import { defaultConfig } from '../../lab/topology/config.ts';
import { renderUnit } from '../../lab/units/render.ts';
import { expectGolden } from './helpers/golden.ts';

const DEFAULT: FirewallPolicy = defaultConfig().webArm.firewall;
const ETC = '/etc';
const IPTABLES_NIX = 'nixos/modules/services/networking/firewall-iptables.nix';

function policy(overrides: Partial<FirewallPolicy>): FirewallPolicy {
  return { ...DEFAULT, ...overrides };
}

/** The commands a script runs, comments and blank lines left out. */
function commands(script: string): string[] {
  return script.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

/** The rules appended to nixos-fw, in order. */
function fwRules(script: string): string[] {
  return commands(script).filter((l) => / -A nixos-fw /.test(` ${l} `));
}

describe(`golden: ${IPTABLES_NIX} @ ${NIXPKGS_FIREWALL_SOURCES[IPTABLES_NIX]} (nixos-25.11 defaults, web-arm's ports)`, () => {
  const fw = renderNixosFirewall(DEFAULT, ETC);
  it('firewall-start', () => expectGolden('nixos-firewall-start.sh', fw.files['firewall/firewall-start.sh']!));
  it('firewall-reload', () => expectGolden('nixos-firewall-reload.sh', fw.files['firewall/firewall-reload.sh']!));
  it('firewall-stop', () => expectGolden('nixos-firewall-stop.sh', fw.files['firewall/firewall-stop.sh']!));
  it('firewall.service', () => expectGolden('nixos-firewall.service', renderUnit(fw.unit)));
  it('names the files it mirrors', () => {
    expect(Object.keys(NIXPKGS_FIREWALL_SOURCES)).toEqual([
      'nixos/modules/services/networking/firewall-iptables.nix',
      'nixos/modules/services/networking/helpers.nix',
      'nixos/modules/services/networking/firewall.nix',
    ]);
  });
});

describe('renderFirewallStart (NixOS option logic)', () => {
  const start = renderFirewallStart(DEFAULT);

  it('is a POSIX sh script that stops at the first real error', () => {
    expect(start.split('\n')[0]).toBe('#!/bin/sh -e');
    for (const script of [start, renderFirewallStop(DEFAULT), renderNixosFirewall(DEFAULT, ETC).files['firewall/firewall-reload.sh']!]) {
      const check = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
      expect(check.status, check.stderr).toBe(0);
    }
  });

  it('keeps NixOS\'s rule order: trusted, DHCP for systemd\'s interfaces, conntrack, ports, ping, ICMPv6, log-refuse, then the hook', () => {
    expect(fwRules(start)).toEqual([
      'ip46tables -A nixos-fw -i lo -j nixos-fw-accept',
      'ip46tables -A nixos-fw -i ve-+ -p udp --dport 67 -j nixos-fw-accept',
      'ip46tables -A nixos-fw -i vz-+ -p udp --dport 67 -j nixos-fw-accept',
      'ip46tables -A nixos-fw -i vt-+ -p udp --dport 67 -j nixos-fw-accept',
      'ip46tables -A nixos-fw -i ns-+ -p udp --dport 67 -j nixos-fw-accept',
      'ip46tables -A nixos-fw -m conntrack --ctstate ESTABLISHED,RELATED -j nixos-fw-accept',
      'ip46tables -A nixos-fw -p tcp --dport 22 -j nixos-fw-accept',
      'iptables -w -A nixos-fw -p icmp --icmp-type echo-request -j nixos-fw-accept',
      'ip6tables -A nixos-fw -p icmpv6 --icmpv6-type redirect -j DROP',
      'ip6tables -A nixos-fw -p icmpv6 --icmpv6-type 139 -j DROP',
      'ip6tables -A nixos-fw -p icmpv6 -j nixos-fw-accept',
      'ip6tables -A nixos-fw -d fe80::/64 -p udp --dport 546 -j nixos-fw-accept',
      'ip46tables -A nixos-fw -j nixos-fw-log-refuse',
    ]);
    const c = commands(start);
    expect(c.at(-1)).toBe('ip46tables -A INPUT -j nixos-fw');
  });

  it('logs refused TCP SYNs before dropping (logRefusedConnections, on in nixos-25.11), and only then', () => {
    expect(commands(start).filter((l) => l.includes('nixos-fw-log-refuse') && l.includes(' -A '))).toEqual([
      'ip46tables -A nixos-fw-log-refuse -p tcp --syn -j LOG --log-level info --log-prefix "refused connection: "',
      'ip46tables -A nixos-fw-log-refuse -m pkttype ! --pkt-type unicast -j nixos-fw-refuse',
      'ip46tables -A nixos-fw-log-refuse -j nixos-fw-refuse',
      'ip46tables -A nixos-fw -j nixos-fw-log-refuse',
    ]);
    expect(renderFirewallStart(policy({ logRefusedConnections: false }))).not.toContain('-j LOG');
    expect(start).toContain('ip46tables -A nixos-fw-refuse -j DROP');
  });

  it('filters reverse paths in mangle PREROUTING unless checkReversePath is off', () => {
    expect(start).toContain('ip46tables -t mangle -A nixos-fw-rpfilter -m rpfilter --validmark -j RETURN');
    expect(start).toContain('ip46tables -t mangle -A PREROUTING -j nixos-fw-rpfilter');
    expect(renderFirewallStart(policy({ checkReversePath: 'loose' }))).toContain('-m rpfilter --validmark --loose -j RETURN');
    const off = renderFirewallStart(policy({ checkReversePath: false }));
    expect(off).not.toContain('-m rpfilter');
    expect(off).not.toContain('-A PREROUTING');
    // The old rpfilter chain is cleaned up either way.
    expect(off).toContain('ip46tables -t mangle -D PREROUTING -j nixos-fw-rpfilter 2> /dev/null || true');
    expect(renderFirewallStop(policy({ checkReversePath: false }))).not.toContain('mangle');
  });

  it('opens 53/udp on podman+ only when the host says so, and podman0 only with the default network\'s DNS', () => {
    expect(start).not.toContain('--dport 53');
    expect(fwRules(renderFirewallStart(policy({ allowDnsOnPodmanBridges: true })))).toContain('ip46tables -A nixos-fw -p udp --dport 53 -j nixos-fw-accept -i podman+');
    expect(renderFirewallStart(policy({ allowDnsOnPodmanBridges: true }))).not.toContain('-p tcp --dport 53');
    expect(NIXOS_PODMAN_DEFAULT_NETWORK).toEqual({ dnsEnabled: false, networkInterface: 'podman0' });
    const withDns = renderFirewallStart(DEFAULT, { dnsEnabled: true, networkInterface: 'podman0' });
    expect(fwRules(withDns)).toContain('ip46tables -A nixos-fw -p udp --dport 53 -j nixos-fw-accept -i podman0');
  });

  it('orders ports by interface as Nix sorts attribute names, each list sorted and deduplicated', () => {
    const p = policy({ allowedTcpPorts: [443, 22, 22], allowedUdpPorts: [51820], allowDnsOnPodmanBridges: true });
    expect(firewallInterfaces(p, { dnsEnabled: true, networkInterface: 'podman0' }).map(([iface, ports]) => [iface, ports.allowedTcpPorts, ports.allowedUdpPorts])).toEqual([
      ['default', [22, 443], [51820]],
      ['podman+', [], [53]],
      ['podman0', [], [53]],
    ]);
  });

  it('accepts ICMPv6 pings whatever allowPing says; ICMPv4 echo only with it', () => {
    const off = renderFirewallStart(policy({ allowPing: false }));
    expect(off).not.toContain('--icmp-type echo-request');
    expect(off).toContain('ip6tables -A nixos-fw -p icmpv6 -j nixos-fw-accept');
  });
});

describe('firewall.service', () => {
  const { unit } = renderNixosFirewall(DEFAULT, ETC);
  it('starts early, is reloaded by a switch, and stops by unhooking', () => {
    expect(unit.wantedBy).toEqual(['sysinit.target']);
    expect(unit.options).toEqual({ defaultDependencies: false, conditionCapability: 'CAP_NET_ADMIN', reloadIfChanged: true });
    expect(unit.before).toEqual(['network-pre.target', 'shutdown.target']);
    expect(unit.service.execReload).toEqual(['@/etc/firewall/firewall-reload.sh firewall-reload']);
  });
  it('changes (so a switch reloads it) when a script changes', () => {
    const other = renderNixosFirewall(policy({ allowedTcpPorts: [22, 80] }), ETC).unit;
    expect(other.service.environment['V6LAB_FIREWALL_HASH']).not.toBe(unit.service.environment['V6LAB_FIREWALL_HASH']);
  });
});
