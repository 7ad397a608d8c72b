import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { renderFirewall, renderFirewallStartScript, type FirewallPolicy } from '../../lab/designs/firewall.ts';
import { defaultConfig } from '../../lab/topology/config.ts';
import { expectGolden } from './helpers/golden.ts';

const DEFAULT: FirewallPolicy = defaultConfig().webArm.firewall;

function policy(overrides: Partial<FirewallPolicy>): FirewallPolicy {
  return { ...DEFAULT, ...overrides };
}

function lines(text: string): string[] {
  return text.split('\n');
}

/** The rules appended to nixos-fw, in order. */
function fwRules(text: string): string[] {
  return lines(text).filter((l) => l.startsWith('-A nixos-fw '));
}

const DNS_UDP = '-A nixos-fw -i podman+ -p udp --dport 53 -j nixos-fw-accept';
const DNS_TCP = '-A nixos-fw -i podman+ -p tcp --dport 53 -j nixos-fw-accept';
const REFUSE = '-A nixos-fw -j nixos-fw-refuse';

describe('renderFirewall golden files', () => {
  it('v4', () => expectGolden('firewall.rules.v4', renderFirewall(DEFAULT, 4)));
  it('v6', () => expectGolden('firewall.rules.v6', renderFirewall(DEFAULT, 6)));
});

describe('renderFirewall', () => {
  for (const family of [4, 6] as const) {
    describe(`IPv${family}`, () => {
      const text = renderFirewall(DEFAULT, family);

      it('is one iptables-restore filter table ending in COMMIT', () => {
        const l = lines(text);
        expect(l[0]!.startsWith('#')).toBe(true);
        expect(l[1]).toBe('*filter');
        expect(l.slice(2, 5)).toEqual([':nixos-fw-accept - [0:0]', ':nixos-fw-refuse - [0:0]', ':nixos-fw - [0:0]']);
        expect(l.at(-2)).toBe('COMMIT');
        expect(text.endsWith('COMMIT\n')).toBe(true);
        expect(l.filter((x) => x === '*filter')).toHaveLength(1);
      });

      it('accepts loopback and established traffic first', () => {
        expect(fwRules(text).slice(0, 2)).toEqual([
          '-A nixos-fw -i lo -j nixos-fw-accept',
          '-A nixos-fw -m conntrack --ctstate ESTABLISHED,RELATED -j nixos-fw-accept',
        ]);
        expect(text).toContain('-A nixos-fw-accept -j ACCEPT');
        expect(text).toContain('-A nixos-fw-refuse -j DROP');
      });

      it('ends nixos-fw with the refuse rule, then hooks it into INPUT', () => {
        expect(fwRules(text).at(-1)).toBe(REFUSE);
        expect(fwRules(text).filter((r) => r === REFUSE)).toHaveLength(1);
        const l = lines(text);
        expect(l.indexOf('-A INPUT -j nixos-fw')).toBe(l.indexOf(REFUSE) + 1);
        expect(l.filter((x) => x.startsWith('-A INPUT'))).toEqual(['-A INPUT -j nixos-fw']);
        // FORWARD is left alone (podman/netavark manages it).
        expect(text).not.toMatch(/FORWARD/);
      });

      it('opens the allowed ports', () => {
        const t = renderFirewall(policy({ allowedTcpPorts: [22, 443], allowedUdpPorts: [51820] }), family);
        expect(t).toContain('-A nixos-fw -p tcp --dport 22 -j nixos-fw-accept');
        expect(t).toContain('-A nixos-fw -p tcp --dport 443 -j nixos-fw-accept');
        expect(t).toContain('-A nixos-fw -p udp --dport 51820 -j nixos-fw-accept');
        // The live containers' ports are not opened in INPUT (published ports go through DNAT).
        expect(text).not.toContain('--dport 9980');
      });

      it('opens 53 on podman+ bridges only when allowDnsOnPodmanBridges', () => {
        expect(text).toContain(DNS_UDP);
        expect(text).toContain(DNS_TCP);
        const off = renderFirewall(policy({ allowDnsOnPodmanBridges: false }), family);
        expect(off).not.toContain('--dport 53');
        expect(off).not.toContain('podman+');
        // Always before the final refuse.
        expect(fwRules(text).indexOf(DNS_UDP)).toBeLessThan(fwRules(text).indexOf(REFUSE));
      });
    });
  }

  it('accepts ICMPv6 on v6 except redirects, and DHCPv6 client replies on link-local', () => {
    const rules = fwRules(renderFirewall(DEFAULT, 6));
    const accept = rules.indexOf('-A nixos-fw -p ipv6-icmp -j nixos-fw-accept');
    expect(accept).toBeGreaterThanOrEqual(0);
    expect(rules.indexOf('-A nixos-fw -p ipv6-icmp --icmpv6-type redirect -j DROP')).toBeLessThan(accept);
    expect(rules.indexOf('-A nixos-fw -p ipv6-icmp --icmpv6-type 139 -j DROP')).toBeLessThan(accept);
    expect(rules).toContain('-A nixos-fw -d fe80::/64 -p udp --dport 546 -j nixos-fw-accept');
    expect(rules).not.toContain('-A nixos-fw -p ipv6-icmp --icmpv6-type echo-request -j nixos-fw-refuse');
  });

  it('refuses ICMPv6 echo before the general ICMPv6 accept when ping is off', () => {
    const rules = fwRules(renderFirewall(policy({ allowPing: false }), 6));
    const refuseEcho = rules.indexOf('-A nixos-fw -p ipv6-icmp --icmpv6-type echo-request -j nixos-fw-refuse');
    expect(refuseEcho).toBeGreaterThanOrEqual(0);
    expect(refuseEcho).toBeLessThan(rules.indexOf('-A nixos-fw -p ipv6-icmp -j nixos-fw-accept'));
  });

  it('has no ICMPv6 rules on v4, and an echo-request accept only when ping is allowed', () => {
    const v4 = renderFirewall(DEFAULT, 4);
    expect(v4).not.toContain('ipv6-icmp');
    expect(v4).not.toContain('fe80::');
    expect(v4).toContain('-A nixos-fw -p icmp --icmp-type echo-request -j nixos-fw-accept');
    expect(renderFirewall(policy({ allowPing: false }), 4)).not.toContain('echo-request');
    expect(renderFirewall(DEFAULT, 6)).not.toContain('-p icmp ');
  });
});

describe('renderFirewallStartScript', () => {
  const script = renderFirewallStartScript('/etc/firewall/rules.v4', '/etc/firewall/rules.v6');
  const l = lines(script);

  it('is a POSIX sh script that stops at the first real error', () => {
    expect(l[0]).toBe('#!/bin/sh');
    expect(l).toContain('set -e');
    const check = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
  });

  it('removes its own chains in both families before restoring (idempotent)', () => {
    expect(script).toContain('for t in iptables ip6tables; do');
    const unhook = l.findIndex((x) => x.includes('-D INPUT -j nixos-fw'));
    const flush = l.findIndex((x) => x.includes('-F $c'));
    const remove = l.findIndex((x) => x.includes('-X $c'));
    const restore4 = l.indexOf('iptables-restore -w --noflush /etc/firewall/rules.v4');
    const restore6 = l.indexOf('ip6tables-restore -w --noflush /etc/firewall/rules.v6');
    expect([unhook, flush, remove, restore4, restore6].every((i) => i >= 0)).toBe(true);
    // Unhook from INPUT (every copy: `while`), then flush, then delete the chains, then restore.
    expect(l[unhook]).toMatch(/^\s*while \$t -w -D INPUT -j nixos-fw/);
    expect(unhook).toBeLessThan(flush);
    expect(flush).toBeLessThan(remove);
    expect(remove).toBeLessThan(restore4);
    expect(restore4).toBeLessThan(restore6);
    for (const chain of ['nixos-fw', 'nixos-fw-accept', 'nixos-fw-refuse']) {
      expect(l[flush]).toContain(chain);
      expect(l[remove]).toContain(chain);
    }
    // Missing chains (first run) must not abort under set -e.
    expect(l[flush]).toContain('|| true');
    expect(l[remove]).toContain('|| true');
    // --noflush: the rest of the filter table (podman's rules) survives the restore.
    expect(script).not.toMatch(/-restore(?! -w --noflush)/);
  });

  it('leaves exactly one INPUT hook however often it runs (simulated iptables)', () => {
    // A tiny iptables model in sh: INPUT hooks are counted in a variable per family.
    const fake = [
      'n_iptables=0; n_ip6tables=0; chains_iptables=0; chains_ip6tables=0',
      'iptables() { fake iptables "$@"; }',
      'ip6tables() { fake ip6tables "$@"; }',
      'fake() { t=$1; shift; shift; eval "n=\\$n_$t; c=\\$chains_$t"',
      '  case "$1" in',
      '    -D) [ "$n" -gt 0 ] || return 1; eval "n_$t=$((n - 1))";;',
      '    -F) [ "$c" -gt 0 ] || return 1;;',
      '    -X) [ "$c" -gt 0 ] || return 1; eval "chains_$t=0";;',
      '  esac; }',
      'iptables_restore() { chains_iptables=1; n_iptables=$((n_iptables + 1)); }',
      'ip6tables_restore() { chains_ip6tables=1; n_ip6tables=$((n_ip6tables + 1)); }',
    ].join('\n');
    const body = script
      .replace('#!/bin/sh', '')
      .replace('iptables-restore', 'iptables_restore')
      .replace('ip6tables-restore', 'ip6tables_restore');
    const program = `${fake}\n${body}\n${body}\n${body}\necho "$n_iptables $n_ip6tables"\n`;
    const out = spawnSync('sh', ['-s'], { input: program, encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout.trim()).toBe('1 1');
  });
});
