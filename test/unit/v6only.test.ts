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
import { guestSpecFromConfig, renderNetworkdUplink } from '../../lab/tiers/qemu/recipe.ts';
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
    // The ADR's mail caveat: an IPv6-first mail client in the container sends from the host GUA, which has no rDNS.
    expect(dual).toEqual({ 'inbound-reachability': 'fail', 'mail-from-container': 'fail' });
    const v6 = planDesign(config('topology.ipv4=false'), LAYOUT).expectations;
    expect(v6).toMatchObject({ 'inbound-reachability': 'fail', 'isolation-default': 'fail', 'mail-path': 'fail', 'mail-from-container': 'fail', 'xlat-default-v4': 'fail' });
    // The live containers' lost IPv4 is the same before and after a reboot.
    expect(v6['idempotent-reboot']).toBeUndefined();
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
    expect(names).toEqual(expect.arrayContaining(['clatd.service', 'clat-ready.service', 'clat-forward.service', 'v6egress-network.service', 'podman-v6probe.service']));
    expect(plan.units.find((u) => u.name === 'clatd.service')!.service.execStart).toEqual(['/usr/sbin/clatd -c /etc/clatd.conf']);
    expect(plan.units.find((u) => u.name === 'podman-v6probe.service')!.after).toContain('clat-ready.service');
    expect(plan.expectations['xlat-default-v4']).toBeUndefined();
    expect(plan.expectations).toMatchObject({ 'isolation-default': 'fail', 'mail-path': 'fail', 'inbound-reachability': 'fail', 'host-unchanged': 'fail' });
    expect(planClat).toBeTypeOf('function');
  });
});

describe('nspawn designs', () => {
  const QEMU = ['lab.tier=qemu'];
  it('run on the qemu tier only', () => {
    const e = thrown(() => validateDesign(config('design.name=nspawn-ula-nat')));
    expect(e.field).toBe('lab.tier');
    expect(e.message).toMatch(/systemd-nspawn needs a real systemd/);
  });
  it.each([
    ['nspawn-delegated', 'design.params.ipv6Prefix="2a01:4f8:c012:43c:2::/80"', 'design.params.ipv6Prefix', /outside the host's 2a01:4f8:c012:43b::\/64/, /delegate a sub-prefix of 2a01:4f8:c012:43b::\/64/],
    ['nspawn-delegated', 'design.params.ipv6Prefix="2a01:4f8:c012:43b::/80"', 'design.params.ipv6Prefix', /contains the host address/, /away from it/],
    ['nspawn-delegated', 'design.params.ipv6Prefix="2a01:4f8:c012:43b::/64"', 'design.params.ipv6Prefix', /outside the host's/, /sub-prefix/],
    ['nspawn-delegated', 'design.params.ipv6ProxyNdp="yes"', 'design.params.ipv6ProxyNdp', /boolean/, /true or false/],
    ['nspawn-ula-nat', 'design.params.ipv6Prefix="2a01:4f8:c012:43b:2::/80"', 'design.params.ipv6Prefix', /not a ULA/, /fd42:4242:4242::\/64/],
    ['nspawn-ula-nat', 'design.params.ipv6ProxyNdp=true', 'design.params.ipv6ProxyNdp', /not a parameter of the nspawn-ula-nat design/, /use one of/],
    ['nspawn-ula-nat', 'design.params.machine="a-very-long-machine"', 'design.params.machine', /ve-<name>/, /nsprobe/],
    ['nspawn-ula-nat', 'design.params.hostPort=22', 'design.params.hostPort', /already open/, /8181/],
    ['nspawn-ula-nat', 'design.params.hostPort=70000', 'design.params.hostPort', /not a TCP port/, /e\.g\. 8181/],
  ])('%s %s → ConfigError on %s', (design, set, field, problem, fix) => {
    const e = thrown(() => validateDesign(config(...QEMU, `design.name=${design}`, set)));
    expect(e.field).toBe(field);
    expect(e.message).toMatch(problem);
    expect(e.fix).toMatch(fix);
  });
  it('ula-nat: networkd ULA + masquerade on ve-nsprobe, ve-+ trusted, the port forward, nsenter as the probe\'s exec', () => {
    const plan = planDesign(config(...QEMU, 'design.name=nspawn-ula-nat'), LAYOUT);
    const link = plan.files['systemd/network/10-ve-nsprobe.network']!;
    expect(link).toContain('Address=fd42:4242:4242::1/64');
    expect(link).toContain('IPMasquerade=both');
    expect(plan.egressSource).toBe('host');
    const nspawn = plan.units.find((u) => u.name === 'nspawn-nsprobe.service')!;
    expect(nspawn.service.execStart[0]).toMatch(/^systemd-nspawn .*--network-veth --port=tcp:8181:8080 /);
    expect(nspawn.service.execStart[0]).toContain('ip -6 addr add fd42:4242:4242::100/64 dev host0');
    expect(plan.units.find((u) => u.name === 'firewall-trust-ve.service')!.service.execStart[0]).toContain('-i ve-+ -j nixos-fw-accept');
    expect(plan.probe).toMatchObject({ name: 'nsprobe', unit: 'nspawn-nsprobe.service', ipv6: 'fd42:4242:4242::100' });
    expect(plan.probe.exec).toBe('nsenter -t $(machinectl show -p Leader --value nsprobe) -a');
    expect(plan.expectations['inbound-reachability']).toBe('fail');
    expect(plan.expectations['idempotent-redeploy']).toBe('skipped');
    expect(plan.expectations['inbound-portfwd']).toBe('skipped');
  });
  it('beside dockerd: DOCKER-USER accepts for podman+ and ve-+ by default (dockerd\'s FORWARD DROP stops the ve- links\' IPv4 too)', () => {
    const plan = planDesign(config(...QEMU, 'design.name=nspawn-ula-nat'), LAYOUT);
    expect(plan.params.acceptPodmanInDockerUser).toBe(true);
    const accepts = plan.units.find((u) => u.name === 'podman-docker-user.service')!.service.execStart[0]!;
    expect(accepts).toContain('iptables -w -I DOCKER-USER -i ve-+ -j ACCEPT');
    expect(accepts).toContain('iptables -w -I DOCKER-USER -o ve-+ -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT');
    expect(accepts).toContain('-i podman+ -j ACCEPT');
    const off = planDesign(config(...QEMU, 'design.name=nspawn-ula-nat', 'design.params.acceptPodmanInDockerUser=false'), LAYOUT);
    expect(off.units.some((u) => u.name === 'podman-docker-user.service')).toBe(false);
    expect(off.expectations).toMatchObject({ 'docker-coexistence': 'fail', 'isolation-default': 'fail', 'egress-v4': 'fail' });
  });
  it('delegated: the sub-prefix routed (IPv4 masqueraded only), proxy NDP for the container on enp1s0', () => {
    const plan = planDesign(config(...QEMU, 'design.name=nspawn-delegated'), LAYOUT);
    expect(plan.files['systemd/network/10-ve-nsprobe.network']).toContain('IPMasquerade=ipv4');
    expect(plan.files['systemd/network/10-enp1s0.network.d/60-nspawn-delegated-proxy-ndp.conf']).toContain('IPv6ProxyNDPAddress=2a01:4f8:c012:43b:2::100');
    expect(plan.egressSource).toBe('container');
    expect(plan.units.find((u) => u.name === 'networkd-v6lab-reload.service')!.service.execStart).toEqual(['networkctl reload', 'networkctl reconfigure enp1s0']);
    expect(plan.expectations).toMatchObject({ 'no-inbound': 'fail', 'host-64-touched': 'fail' });
    const without = planDesign(config(...QEMU, 'design.name=nspawn-delegated', 'design.params.ipv6ProxyNdp=false'), LAYOUT);
    expect(without.files['systemd/network/10-enp1s0.network.d/60-nspawn-delegated-proxy-ndp.conf']).toMatch(/^IPv6ProxyNDP=no$/m);
    expect(without.units.find((u) => u.name === 'networkd-v6lab-reload.service')!.service.execStart).toEqual(['networkctl reload', '-ip -6 neigh del proxy 2a01:4f8:c012:43b:2::100 dev enp1s0']);
    expect(without.expectations['egress-nat66']).toBe('fail');
  });
});

describe('lab compare columns for the variant', () => {
  it('<design>@v6only sets topology.ipv4=false; clat-464xlat gets it without asking', async () => {
    const { compareEntry } = await import('../../lab/compare/plan.ts');
    expect(compareEntry('v6egress')).toEqual({ label: 'v6egress', design: 'v6egress', sets: [] });
    expect(compareEntry('v6egress@v6only')).toEqual({ label: 'v6egress@v6only', design: 'v6egress', sets: ['--set', 'topology.ipv4=false'] });
    expect(compareEntry('clat-464xlat')).toEqual({ label: 'clat-464xlat@v6only', design: 'clat-464xlat', sets: ['--set', 'topology.ipv4=false'] });
    expect(() => compareEntry('v6egress@v4only')).toThrow(/<design>@v6only/);
    expect(() => compareEntry('nope')).toThrow(ConfigError);
  });
});
