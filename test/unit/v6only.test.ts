/**
 * The IPv6-only variant (topology.*) and the clat-464xlat design: checks before anything is
 * created, the router's NAT64/DNS64 renderings, web-arm's resolver and uplink, the design's
 * units and declared verdicts. Pure.
 */
import { describe, expect, it } from 'vitest';
import { planClat, renderClatdConf } from '../../lab/designs/clat464xlat.ts';
import type { HostLayout } from '../../lab/designs/design.ts';
import { planDesign, validateDesign } from '../../lab/designs/registry.ts';
import { ConfigError } from '../../lab/errors.ts';
import { guestSpecFromConfig, renderNetworkdUplink } from '../../lab/qemu/recipe.ts';
import { defaultConfig, type LabConfig } from '../../lab/topology/config.ts';
import { applyOverrides, parseOverride } from '../../lab/topology/overrides.ts';
import { validateConfig } from '../../lab/topology/validate.ts';
import {
  nat64Addresses,
  renderRouterXlatScript,
  renderTaygaConf,
  renderUnboundDns64Conf,
  renderWebArmResolvConf,
  synthesize,
} from '../../lab/topology/v6only.ts';

function config(...sets: string[]): LabConfig {
  return validateConfig(applyOverrides(defaultConfig(), sets.map(parseOverride)));
}

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const LAYOUT: HostLayout = { etc: '/etc', podmanSocket: '/run/podman/podman.sock', image: 'localhost/v6lab-node:test', networkConfigDir: '/etc/containers/networks', systemd: 'real' };
const V6ONLY_QEMU = ['topology.ipv4=false', 'lab.tier=qemu'];

describe('topology.* checks (before anything is created)', () => {
  it('accepts the defaults and the IPv6-only switch', () => {
    expect(config().topology).toEqual({ ipv4: true, nat64Prefix: '2001:db8:64::/96', nat64Pool: '192.168.255.0/24' });
    expect(config('topology.ipv4=false').topology.ipv4).toBe(false);
  });

  it.each([
    ['topology.nat64Prefix=2001:db8:64::/64', /is a \/64.*last 32 bits of a \/96/, /use a \/96/],
    ['topology.nat64Prefix=2001:db8:64::/104', /is a \/104/, /use a \/96/],
    ['topology.nat64Prefix=64:ff9b::/96', /well-known prefix.*non-global IPv4 198\.51\.100\.80/, /2001:db8:64::\/96/],
    ['topology.nat64Prefix=64:ff9b:1::/96', /RFC 8215.*reserved/, /2001:db8:64::\/96/],
    ['topology.nat64Prefix=2a01:4f8:c012:43b::/96', /overlaps web-arm's \/64/, /prefix of its own/],
    ['topology.nat64Prefix=2001:db8:ffff::/96', /overlaps the internet segment/, /prefix of its own/],
    ['topology.nat64Prefix=2001:db8:64::1/96', /host bits/, /2001:db8:64::\/96/],
    ['topology.nat64Prefix=198.51.100.0/24', /IPv4 subnet where IPv6/, /2001:db8:64::\/96/],
    ['topology.nat64Pool=203.0.113.0/24', /not a private IPv4/, /192\.168\.255\.0\/24/],
    ['topology.nat64Pool=10.88.0.0/24', /overlaps web-arm's default podman network/, /another private pool/],
    ['topology.ipv4="no"', /boolean/, /README/],
  ])('%s → ConfigError naming the field and the fix', (set, problem, fix) => {
    const e = thrown(() => config(set));
    expect(e.field).toBe(set.split('=')[0]);
    expect(e.message).toMatch(problem);
    expect(e.fix).toMatch(fix);
    expect(e.exitCode).toBe(2);
  });
});

describe("the router's NAT64 and DNS64", () => {
  const c = config('topology.ipv4=false');
  it('synthesizes RFC 6052 /96 addresses', () => {
    expect(synthesize('2001:db8:64::/96', '198.51.100.80')).toBe('2001:db8:64::c633:6450');
    expect(synthesize('64:ff9b::/96', '192.0.0.170')).toBe('64:ff9b::c000:aa');
  });
  it('renders tayga with the prefix, a private pool and its own addresses', () => {
    expect(nat64Addresses(c)).toEqual({ tun: 'nat64', ipv4: '192.168.255.1', ipv6: '2001:db8:ffff::6464' });
    const tayga = renderTaygaConf(c);
    expect(tayga).toContain('prefix 2001:db8:64::/96\n');
    expect(tayga).toContain('dynamic-pool 192.168.255.0/24\n');
    expect(tayga).toContain('ipv4-addr 192.168.255.1\n');
  });
  it('renders unbound with the dns64 module, forwarding to the lab DNS, listening on the router', () => {
    const unbound = renderUnboundDns64Conf(c);
    expect(unbound).toContain('module-config: "dns64 iterator"');
    expect(unbound).toContain('dns64-prefix: 2001:db8:64::/96');
    expect(unbound).toContain('interface: 2001:db8:ffff::1');
    expect(unbound).toContain('forward-addr: 2001:db8:ffff::53');
  });
  it('the router script makes the tun node, routes the prefix and pool, masquerades the pool, starts each daemon once', () => {
    const script = renderRouterXlatScript(c, 'inet0');
    expect(script).toContain('mknod -m 0666 /dev/net/tun c 10 200');
    expect(script).toContain('ip -6 route replace 2001:db8:64::/96 dev nat64');
    expect(script).toContain('ip -4 route replace 192.168.255.0/24 dev nat64');
    expect(script).toContain('ip saddr 192.168.255.0/24 oifname inet0 counter masquerade');
    expect(script).toMatch(/pgrep -x tayga >\/dev\/null \|\| tayga/);
    expect(script).toMatch(/pgrep -x unbound >\/dev\/null \|\| unbound/);
  });
});

describe("web-arm on the IPv6-only variant", () => {
  it('asks the router\'s DNS64 first; keeps the lab DNS by default', () => {
    expect(renderWebArmResolvConf(config(), '')).toMatch(/^# .*\nnameserver 2001:db8:ffff::53\nnameserver 198\.51\.100\.53\n$/);
    const v6 = renderWebArmResolvConf(config('topology.ipv4=false'), '');
    expect(v6.split('\n').filter((l) => l.startsWith('nameserver'))).toEqual(['nameserver 2001:db8:ffff::1', 'nameserver 198.51.100.53']);
  });
  it("the guest's networkd uplink has no IPv4 address or route", () => {
    const dual = renderNetworkdUplink(guestSpecFromConfig(config()).network);
    expect(dual).toContain('Address=203.0.113.10/32');
    expect(dual).toContain('Gateway=172.31.1.1');
    const v6 = renderNetworkdUplink(guestSpecFromConfig(config('topology.ipv4=false')).network);
    expect(v6).not.toMatch(/203\.0\.113\.10|172\.31\.1\.1/);
    expect(v6).toContain('Address=2a01:4f8:c012:43b::1/64');
    expect(v6).toContain('Gateway=fe80::1');
  });
  it('v6egress declares what the variant takes away (live containers without IPv4, mail from the host IPv4)', () => {
    const dual = planDesign(config(), LAYOUT).expectations;
    expect(dual).toEqual({ 'inbound-reachability': 'fail' });
    const v6 = planDesign(config('topology.ipv4=false'), LAYOUT).expectations;
    expect(v6).toMatchObject({ 'inbound-reachability': 'fail', 'isolation-default': 'fail', 'mail-path': 'fail', 'xlat-default-v4': 'fail' });
  });
});

describe('clat-464xlat', () => {
  it('runs on the qemu tier only', () => {
    const e = thrown(() => validateDesign(config('topology.ipv4=false', 'design.name=clat-464xlat')));
    expect(e.field).toBe('lab.tier');
    expect(e.fix).toBe('use --host qemu');
  });
  it('needs the IPv6-only variant', () => {
    const e = thrown(() => validateDesign(config('lab.tier=qemu', 'design.name=clat-464xlat')));
    expect(e.field).toBe('topology.ipv4');
    expect(e.fix).toBe('add --set topology.ipv4=false');
  });
  it('rejects unknown params like v6egress', () => {
    expect(thrown(() => validateDesign(config(...V6ONLY_QEMU, 'design.name=clat-464xlat', 'design.params.platPrefix="x"'))).field).toBe('design.params.platPrefix');
  });
  it('adds clatd (shared GUA, the router\'s prefix, no IPv4 wait) beside v6egress; the probe waits for the CLAT', () => {
    const c = config(...V6ONLY_QEMU, 'design.name=clat-464xlat');
    const plan = planDesign(c, LAYOUT);
    expect(plan.design).toBe('clat-464xlat');
    expect(renderClatdConf(c)).toContain('plat-prefix=2001:db8:64::/96\n');
    expect(plan.files['clatd.conf']).toContain('clat-v6-addr=shared\n');
    expect(plan.files['clatd.conf']).toContain('plat-dev=enp1s0\n');
    const names = plan.units.map((u) => u.name);
    expect(names).toEqual(expect.arrayContaining(['clatd.service', 'clat-ready.service', 'v6egress-network.service', 'podman-v6probe.service']));
    expect(plan.units.find((u) => u.name === 'clatd.service')!.service.execStart).toEqual(['/usr/sbin/clatd -c /etc/clatd.conf']);
    expect(plan.units.find((u) => u.name === 'podman-v6probe.service')!.after).toContain('clat-ready.service');
    expect(plan.expectations['xlat-default-v4']).toBeUndefined();
    expect(plan.expectations).toMatchObject({ 'isolation-default': 'fail', 'mail-path': 'fail', 'inbound-reachability': 'fail' });
    expect(planClat).toBeTypeOf('function');
  });
});
