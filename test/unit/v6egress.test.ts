import { describe, expect, it } from 'vitest';
import type { HostLayout } from '../../lab/designs/design.ts';
import { NIXPKGS_OCI_CONTAINERS_SOURCE } from '../../lab/designs/ociContainer.ts';
import { getDesign, knownDesigns, planDesign, validateDesign } from '../../lab/designs/registry.ts';
import {
  ensureNetworkCommand,
  networkUnitName,
  parseV6egressParams,
  planV6egress,
  renderStrictEnsureScript,
  V6EGRESS_DEFAULTS,
  v6egress,
} from '../../lab/designs/v6egress.ts';
import { ConfigError } from '../../lab/errors.ts';
import { defaultConfig, type LabConfig } from '../../lab/topology/config.ts';
import { splitExecLine } from '../../lab/units/exec-line.ts';
import type { UnitSpec } from '../../lab/units/model.ts';
import { parseUnit } from '../../lab/units/parse.ts';
import { renderUnit } from '../../lab/units/render.ts';
import { expectGolden, thrown } from './helpers/golden.ts';

const LAYOUT: HostLayout = {
  etc: '/run/v6lab/main/web-arm/etc',
  podmanSocket: '/run/v6lab/main/web-arm/podman.sock',
  image: 'localhost/v6lab-node:0123456789ab',
  networkConfigDir: '/run/v6lab/main/web-arm/etc/containers/networks',
};

const PRODUCTION_IDIOM =
  'podman network exists v6egress || podman network create --ipv6 --subnet 10.89.0.0/24 --subnet fdaa:bbcc:ddee::/64 v6egress';

const config = defaultConfig();

function paramError(raw: Record<string, unknown>, field: string, c: LabConfig = config): ConfigError {
  const e = thrown(() => parseV6egressParams(raw, c));
  expect(e).toBeInstanceOf(ConfigError);
  expect((e as ConfigError).field).toBe(field);
  expect((e as ConfigError).exitCode).toBe(2);
  return e as ConfigError;
}

function unitNamed(units: UnitSpec[], name: string): UnitSpec {
  const u = units.find((x) => x.name === name);
  if (!u) throw new Error(`no unit ${name} in ${units.map((x) => x.name).join(', ')}`);
  return u;
}

describe('parseV6egressParams', () => {
  it('fills in the defaults', () => {
    expect(parseV6egressParams({}, config)).toEqual({
      networkName: 'v6egress',
      ipv4Subnet: '10.89.0.0/24',
      ipv6Subnet: 'fdaa:bbcc:ddee::/64',
      probeName: 'v6probe',
      probePort: 8080,
      strictEnsure: false,
      reloadNetworksAfterFirewall: false,
      acceptPodmanInDockerUser: false,
    });
    expect(parseV6egressParams({}, config)).toEqual(V6EGRESS_DEFAULTS);
  });

  it('accepts other good values and canonicalises the subnets', () => {
    const p = parseV6egressParams({ ipv6Subnet: 'FDAA:0001::/48', ipv4Subnet: '192.168.77.0/24', probeName: 'probe2', probePort: 9000, networkName: 'egress6' }, config);
    expect(p).toEqual({ networkName: 'egress6', ipv4Subnet: '192.168.77.0/24', ipv6Subnet: 'fdaa:1::/48', probeName: 'probe2', probePort: 9000, strictEnsure: false, reloadNetworksAfterFirewall: false, acceptPodmanInDockerUser: false });
  });

  it('rejects a subnet that is not a ULA', () => {
    const e = paramError({ ipv6Subnet: '2001:db8:1::/64' }, 'design.params.ipv6Subnet');
    expect(e.message).toContain('not a ULA (fc00::/7)');
    expect(e.fix).toContain('fdaa:bbcc:ddee::/64');
  });

  it("rejects a subnet inside the host's /64, naming the host /64", () => {
    const e = paramError({ ipv6Subnet: '2a01:4f8:c012:43b:1::/80' }, 'design.params.ipv6Subnet');
    expect(e.message).toContain("overlaps the host's /64 2a01:4f8:c012:43b::/64");
  });

  it('rejects host bits, naming the network address', () => {
    const e = paramError({ ipv6Subnet: 'fdaa:bbcc:ddee::1/64' }, 'design.params.ipv6Subnet');
    expect(e.message).toContain('host bits are set');
    expect(e.fix).toContain('fdaa:bbcc:ddee::/64');
    const v4 = paramError({ ipv4Subnet: '10.89.0.1/24' }, 'design.params.ipv4Subnet');
    expect(v4.fix).toContain('10.89.0.0/24');
  });

  it('rejects IPv6 prefix lengths outside /48–/120', () => {
    expect(paramError({ ipv6Subnet: 'fdaa:bb00::/40' }, 'design.params.ipv6Subnet').message).toContain('/48–/120');
    expect(paramError({ ipv6Subnet: 'fdaa:bbcc:ddee::/124' }, 'design.params.ipv6Subnet').message).toContain('/48–/120');
    expect(parseV6egressParams({ ipv6Subnet: 'fdaa:bbcc:ddee::/120' }, config).ipv6Subnet).toBe('fdaa:bbcc:ddee::/120');
  });

  it('rejects an IPv6 subnet given as IPv4 and vice versa', () => {
    paramError({ ipv6Subnet: '10.89.0.0/24' }, 'design.params.ipv6Subnet');
    paramError({ ipv4Subnet: 'fdaa:bbcc:ddee::/64' }, 'design.params.ipv4Subnet');
  });

  it('rejects an IPv4 subnet overlapping the default podman network', () => {
    for (const subnet of ['10.88.0.0/16', '10.88.5.0/24', '10.88.0.0/20']) {
      const e = paramError({ ipv4Subnet: subnet }, 'design.params.ipv4Subnet');
      expect(e.message).toContain('overlaps the default podman network 10.88.0.0/16');
    }
    // Follows the configured default network.
    const c = structuredClone(config);
    c.webArm.podman.defaultNetworkSubnet = '10.89.0.0/16';
    expect(paramError({}, 'design.params.ipv4Subnet', c).message).toContain('10.89.0.0/16');
  });

  it('rejects a public IPv4 subnet and odd prefix lengths', () => {
    expect(paramError({ ipv4Subnet: '8.8.8.0/24' }, 'design.params.ipv4Subnet').message).toContain('not a private (RFC 1918)');
    expect(paramError({ ipv4Subnet: '203.0.113.0/24' }, 'design.params.ipv4Subnet').message).toContain('not a private');
    expect(paramError({ ipv4Subnet: '10.0.0.0/8' }, 'design.params.ipv4Subnet').message).toContain('/16–/29');
    expect(paramError({ ipv4Subnet: '10.89.0.0/30' }, 'design.params.ipv4Subnet').message).toContain('/16–/29');
  });

  it("rejects an IPv4 subnet holding web-arm's gateway", () => {
    const e = paramError({ ipv4Subnet: '172.31.1.0/24' }, 'design.params.ipv4Subnet');
    expect(e.message).toContain("contains web-arm's IPv4 gateway 172.31.1.1");
  });

  it('rejects an unknown param key, listing the known ones', () => {
    const e = paramError({ ipv6subnet: 'fdaa::/64' }, 'design.params.ipv6subnet');
    expect(e.message).toContain('is not a parameter of the v6egress design');
    expect(e.fix).toBe('use one of: networkName, ipv4Subnet, ipv6Subnet, probeName, probePort, strictEnsure, reloadNetworksAfterFirewall, acceptPodmanInDockerUser');
  });

  it('rejects a probe named like a live container', () => {
    const e = paramError({ probeName: 'collabora' }, 'design.params.probeName');
    expect(e.message).toContain('already the name of a live container');
    paramError({ probeName: 'rustdesk-server' }, 'design.params.probeName');
    paramError({ probeName: '-bad' }, 'design.params.probeName');
    paramError({ probeName: 42 }, 'design.params.probeName');
  });

  it('rejects reserved or malformed network names and bad ports', () => {
    for (const name of ['podman', 'host', 'none', 'bridge', 'pasta', 'with space', '', 7]) {
      paramError({ networkName: name }, 'design.params.networkName');
    }
    for (const port of [0, 65536, 80.5, '8080']) paramError({ probePort: port }, 'design.params.probePort');
  });
});

describe('registry', () => {
  it('knows v6egress', () => {
    expect(knownDesigns().slice(0, 3)).toEqual(['v6egress', 'routed-subprefix', 'routed-subprefix-ndp']);
    expect(getDesign('v6egress')).toBe(v6egress);
    expect(v6egress.summary).toContain('NAT66');
  });

  it('rejects an unknown design, listing the known ones', () => {
    const e = thrown(() => getDesign('nat66'));
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).field).toBe('design.name');
    expect((e as ConfigError).fix).toBe(`use one of: ${knownDesigns().join(', ')}`);
    expect((e as ConfigError).fix).toMatch(/^use one of: v6egress, routed-subprefix, routed-subprefix-ndp, /);
    const c = structuredClone(config);
    c.design.name = 'nope';
    expect(() => validateDesign(c)).toThrow(/design\.name: is not a known design.*v6egress/s);
    expect(() => planDesign(c, LAYOUT)).toThrow(ConfigError);
  });

  it('validates and plans through the config', () => {
    const c = structuredClone(config);
    expect(validateDesign(c)).toEqual(V6EGRESS_DEFAULTS);
    c.design.params = { ipv6Subnet: '2001:db8:1::/64' };
    expect(() => validateDesign(c)).toThrow(/design\.params\.ipv6Subnet/);
    c.design.params = { probePort: 9090 };
    expect(planDesign(c, LAYOUT).probe).toEqual({ name: 'v6probe', network: 'v6egress', listenPort: 9090 });
  });
});

describe('planV6egress', () => {
  const params = parseV6egressParams({}, config);
  const plan = planV6egress(params, config, LAYOUT);
  const network = unitNamed(plan.units, 'v6egress-network.service');
  const probe = unitNamed(plan.units, 'podman-v6probe.service');
  const networkText = renderUnit(network);
  const probeText = renderUnit(probe);

  it('describes the design, its probe, network and sysctls', () => {
    expect(plan.design).toBe('v6egress');
    expect(plan.params).toEqual(params);
    expect(plan.units.map((u) => u.name)).toEqual(['v6egress-network.service', 'podman-v6probe.service']);
    expect(plan.probe).toEqual({ name: 'v6probe', network: 'v6egress', listenPort: 8080 });
    expect(plan.networks).toEqual([{ name: 'v6egress', subnets: ['10.89.0.0/24', 'fdaa:bbcc:ddee::/64'], ipv6: true }]);
    expect(plan.sysctls).toEqual({ 'net.ipv6.conf.all.forwarding': '1' });
    expect(networkUnitName(params)).toBe('v6egress-network.service');
  });

  it('creates the network with exactly the production idiom', () => {
    expect(ensureNetworkCommand(params)).toBe(PRODUCTION_IDIOM);
    expect(network.service.execStart).toHaveLength(1);
    expect(networkText).toContain(`\nExecStart=/bin/sh -c '${PRODUCTION_IDIOM}'\n`);
    // systemd hands sh the idiom as one argument.
    expect(splitExecLine(network.service.execStart[0]!).argv).toEqual(['/bin/sh', '-c', PRODUCTION_IDIOM]);
  });

  it('is a oneshot that stays active, pulled in with and ordered around podman', () => {
    expect(networkText).toContain('\nType=oneshot\n');
    expect(networkText).toContain('\nRemainAfterExit=yes\n');
    expect(network.wants).toContain('podman.service');
    expect(network.after).toContain('podman.service');
    expect(network.after).toContain('systemd-sysctl.service');
    expect(network.before).toEqual(['podman-v6probe.service']);
    expect(network.wantedBy).toEqual(['multi-user.target']);
    expect(networkText).toMatch(/^Wants=podman\.service$/m);
    expect(networkText).toMatch(/^After=.*\bpodman\.service\b/m);
    expect(networkText).toMatch(/^Before=podman-v6probe\.service$/m);
  });

  it('runs the probe on the network, after and requiring the network unit', () => {
    expect(probe.requires).toEqual(['v6egress-network.service']);
    expect(probe.after).toContain('v6egress-network.service');
    expect(probe.after).not.toContain('podman.service'); // NixOS's oci-containers units are not ordered after it
    expect(probe.wants).toContain('v6egress-network.service');
    const run = splitExecLine(probe.service.execStart[0]!).argv;
    expect(run.slice(0, 2)).toEqual(['podman', 'run']);
    expect(run).toContain('--network=v6egress');
    expect(run).toContain('--name=v6probe');
    expect(run).toContain(LAYOUT.image);
    expect(run.filter((a) => a.startsWith('-p='))).toEqual([]); // the probe publishes nothing
    expect(run.slice(run.indexOf(LAYOUT.image) + 1)).toEqual(['/usr/local/bin/v6lab-responder', '--name', 'v6probe', '--http', '8080']);
    expect(probeText).toMatch(/^Requires=v6egress-network\.service$/m);
  });

  it('turns IPv6 forwarding on in its own sysctl file', () => {
    expect(Object.keys(plan.files)).toEqual(['sysctl.d/60-v6egress.conf']);
    const file = plan.files['sysctl.d/60-v6egress.conf']!;
    expect(file.split('\n')).toContain('net.ipv6.conf.all.forwarding = 1');
    expect(file.startsWith('# Generated by v6lab')).toBe(true);
    expect(file.endsWith('\n')).toBe(true);
  });

  it('follows the params', () => {
    const p = parseV6egressParams({ networkName: 'egress6', ipv4Subnet: '10.90.0.0/24', ipv6Subnet: 'fd00:1::/64', probeName: 'p6' }, config);
    const other = planV6egress(p, config, LAYOUT);
    expect(other.units.map((u) => u.name)).toEqual(['egress6-network.service', 'podman-p6.service']);
    expect(ensureNetworkCommand(p)).toBe('podman network exists egress6 || podman network create --ipv6 --subnet 10.90.0.0/24 --subnet fd00:1::/64 egress6');
    expect(splitExecLine(other.units[1]!.service.execStart[0]!).argv).toContain('--network=egress6');
  });

  it('renders units that parse back to the same specs', () => {
    expect(parseUnit(network.name, networkText)).toEqual(network);
    expect(parseUnit(probe.name, probeText)).toEqual(probe);
  });

  it(`matches the golden unit files (on a real systemd; the probe as ${Object.keys(NIXPKGS_OCI_CONTAINERS_SOURCE)[0]} @ ${Object.values(NIXPKGS_OCI_CONTAINERS_SOURCE)[0]} writes it)`, () => {
    const real = planDesign(config, { ...LAYOUT, etc: '/etc', systemd: 'real' });
    const text = real.units.map((u) => `### ${u.name}\n${renderUnit(u)}`).join('\n');
    expectGolden('v6egress-units.txt', text);
  });
});

describe('v6egress design options', () => {
  const config = defaultConfig();
  it('rejects non-boolean options', () => {
    expect(() => parseV6egressParams({ strictEnsure: 'yes' }, config)).toThrow(/design.params.strictEnsure/);
    expect(() => parseV6egressParams({ reloadNetworksAfterFirewall: 1 }, config)).toThrow(/design.params.reloadNetworksAfterFirewall/);
  });
  it('strictEnsure runs a script that compares subnets, refuses when attached, recreates when not', () => {
    const p = parseV6egressParams({ strictEnsure: true }, config);
    const plan = planV6egress(p, config, { etc: '/etc', podmanSocket: '/run/podman/podman.sock', image: 'img', networkConfigDir: '/etc/containers/networks' });
    const unit = plan.units.find((u) => u.name === 'v6egress-network.service')!;
    expect(unit.service.execStart).toEqual(['/bin/sh /etc/v6egress/ensure.sh']);
    const script = plan.files['v6egress/ensure.sh']!;
    expect(script).toContain('want="10.89.0.0/24 fdaa:bbcc:ddee::/64"');
    expect(script).toContain('DRIFT:');
    expect(script).toContain('podman network rm "$net"');
    expect(renderStrictEnsureScript(p)).toBe(script);
  });
  it('reloadNetworksAfterFirewall adds a reload unit that is PartOf and After the firewall', () => {
    const p = parseV6egressParams({ reloadNetworksAfterFirewall: true }, config);
    const plan = planV6egress(p, config, { etc: '/etc', podmanSocket: '/run/podman/podman.sock', image: 'img', networkConfigDir: '/etc/containers/networks' });
    const hook = plan.units.find((u) => u.name === 'podman-network-reload.service')!;
    expect(hook.partOf).toEqual(['firewall.service']);
    expect(hook.after).toContain('firewall.service');
    expect(hook.service.execStart).toEqual(['podman network reload --all']);
    expect(planV6egress(parseV6egressParams({}, config), config, { etc: '/etc', podmanSocket: '/s', image: 'img', networkConfigDir: '/etc/containers/networks' }).units.map((u) => u.name)).not.toContain('podman-network-reload.service');
  });
});
