import { describe, expect, it } from 'vitest';
import { ConfigError, exitCodeOf } from '../../lab/errors.ts';
import { defaultConfig, labConfigSchema, withConfigDefaults, type LabConfig } from '../../lab/topology/config.ts';
import { applyOverrides, listPaths, parseOverride } from '../../lab/topology/overrides.ts';
import { validateConfig } from '../../lab/topology/validate.ts';
import { thrown } from './helpers/golden.ts';

/** Asserts fn throws a ConfigError for `field` (exit code 2) and returns it. */
function configError(fn: () => unknown, field: string): ConfigError {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(ConfigError);
  const e = error as ConfigError;
  expect(e.field).toBe(field);
  expect(e.exitCode).toBe(2);
  expect(e.code).toBe('E_CONFIG');
  expect(exitCodeOf(e)).toBe(2);
  expect(e.message.startsWith(`${field}: `)).toBe(true);
  expect(e.message).toContain('Fix: ');
  return e;
}

/** The default config with one override applied (through the same path as `--set`). */
function withSet(text: string): LabConfig {
  return applyOverrides(defaultConfig(), [parseOverride(text)]);
}

describe('defaultConfig', () => {
  it('reproduces web-arm', () => {
    const c = defaultConfig();
    expect(c.lab).toEqual({ name: 'main', tier: 'netns', guest: 'debian', arch: process.arch === 'arm64' ? 'aarch64' : 'x86_64', stateDir: '', snapshot: true, designSnapshot: true });
    expect(c.webArm.hostname).toBe('web-arm');
    expect(c.webArm.uplink).toBe('enp1s0');
    expect(c.webArm.ipv6).toEqual({ address: '2a01:4f8:c012:43b::1', prefixLength: 64, gateway: 'fe80::1' });
    expect(c.webArm.podman.defaultNetworkSubnet).toBe('10.88.0.0/16');
    expect(c.webArm.containers.map((x) => x.name)).toEqual(['collabora', 'rustdesk-server']);
    expect(c.webArm.firewall.allowedTcpPorts).toEqual([22]);
    expect(c.design).toEqual({ name: 'v6egress', params: {} });
  });

  it('publishes every rustdesk TCP port and 21116/udp', () => {
    const rustdesk = defaultConfig().webArm.containers.find((x) => x.name === 'rustdesk-server');
    expect(rustdesk?.publish.filter((p) => p.protocol === 'tcp').map((p) => p.hostPort)).toEqual([21115, 21116, 21117, 21118, 21119]);
    expect(rustdesk?.publish.filter((p) => p.protocol === 'udp')).toEqual([{ hostPort: 21116, containerPort: 21116, protocol: 'udp' }]);
  });

  it('returns a fresh object each time and matches the zod schema', () => {
    const a = defaultConfig();
    a.webArm.containers.pop();
    a.webArm.firewall.allowedTcpPorts.push(80);
    expect(defaultConfig().webArm.containers).toHaveLength(2);
    expect(defaultConfig().webArm.firewall.allowedTcpPorts).toEqual([22]);
    expect(labConfigSchema.safeParse(defaultConfig()).success).toBe(true);
  });
});

describe('parseOverride', () => {
  it('reads JSON values: numbers, booleans, null, arrays, objects, quoted strings', () => {
    expect(parseOverride('webArm.ipv6.prefixLength=64')).toEqual({ path: 'webArm.ipv6.prefixLength', value: 64 });
    expect(parseOverride('a=-1.5').value).toBe(-1.5);
    expect(parseOverride('webArm.firewall.allowPing=false').value).toBe(false);
    expect(parseOverride('a=true').value).toBe(true);
    expect(parseOverride('a=null').value).toBeNull();
    expect(parseOverride('webArm.firewall.allowedTcpPorts=[22,80]').value).toEqual([22, 80]);
    expect(parseOverride('design.params={"probePort":9000}').value).toEqual({ probePort: 9000 });
    expect(parseOverride('a="64"').value).toBe('64');
  });

  it('keeps anything else as a plain string', () => {
    expect(parseOverride('design.params.ipv6Subnet=fdaa:1::/64')).toEqual({ path: 'design.params.ipv6Subnet', value: 'fdaa:1::/64' });
    expect(parseOverride('lab.name=ci1').value).toBe('ci1');
    expect(parseOverride('webArm.ipv4.address=203.0.113.10').value).toBe('203.0.113.10');
    // Looks like JSON but is not: kept as the raw text.
    expect(parseOverride('a=[not json').value).toBe('[not json');
    expect(parseOverride('a=[1,').value).toBe('[1,');
    expect(parseOverride('a=007').value).toBe('007');
    expect(parseOverride('a=').value).toBe('');
  });

  it('splits at the first "=" and trims the path', () => {
    expect(parseOverride(' lab.name =x=y')).toEqual({ path: 'lab.name', value: 'x=y' });
  });

  it('rejects a missing "=" or an empty path with a ConfigError on --set', () => {
    const e = configError(() => parseOverride('lab.name'), '--set');
    expect(e.value).toBe('lab.name');
    expect(e.message).toContain('expected path=value');
    expect(e.fix).toContain('--set design.params.ipv6Subnet=');
    configError(() => parseOverride('=value'), '--set');
  });
});

describe('applyOverrides', () => {
  it('sets a nested path on a copy, leaving the input alone', () => {
    const base = defaultConfig();
    const out = applyOverrides(base, [
      { path: 'webArm.ipv6.address', value: '2a01:4f8:c012:43b::2' },
      { path: 'webArm.firewall.allowedTcpPorts', value: [22, 443] },
      { path: 'lab.name', value: 'ci1' },
    ]);
    expect(out.webArm.ipv6.address).toBe('2a01:4f8:c012:43b::2');
    expect(out.webArm.firewall.allowedTcpPorts).toEqual([22, 443]);
    expect(out.lab.name).toBe('ci1');
    expect(base).toEqual(defaultConfig());
    expect(out.webArm.ipv6.gateway).toBe('fe80::1');
  });

  it('applies overrides in order (the last one wins)', () => {
    const out = applyOverrides(defaultConfig(), [parseOverride('lab.name=a'), parseOverride('lab.name=b')]);
    expect(out.lab.name).toBe('b');
  });

  it('fails on an unknown path with a ConfigError listing the known paths near it', () => {
    const e = configError(() => withSet('webArm.ipv6.adress=2a01::1'), 'webArm.ipv6.adress');
    expect(e.message).toContain('no such config path');
    expect(e.fix).toContain('webArm.ipv6.address');
    expect(e.fix).toContain('webArm.ipv6.gateway');
    const lab = configError(() => withSet('lab.nmae=x'), 'lab.nmae');
    expect(lab.fix).toContain('use one of: lab.name, lab.tier, lab.guest, lab.arch, lab.stateDir');
    // A head that matches nothing falls back to the first known paths.
    const top = configError(() => withSet('nope.x=1'), 'nope.x');
    expect(top.fix).toContain('lab.name');
  });

  it('fails on a path through a leaf or a missing parent, and on an empty segment', () => {
    configError(() => withSet('lab.name.sub=x'), 'lab.name.sub');
    configError(() => withSet('webArm.nothing.here=1'), 'webArm.nothing.here');
    const e = configError(() => withSet('webArm..mac=x'), 'webArm..mac');
    expect(e.message).toContain('empty segment');
  });

  it('lets design.params.* add new keys (the design checks them)', () => {
    const out = applyOverrides(defaultConfig(), [
      parseOverride('design.params.ipv6Subnet=fdaa:1::/64'),
      parseOverride('design.params.probePort=9000'),
    ]);
    expect(out.design.params).toEqual({ ipv6Subnet: 'fdaa:1::/64', probePort: 9000 });
    // Only the params object is open: not other keys under design, nor missing objects below params.
    configError(() => withSet('design.other=1'), 'design.other');
    configError(() => withSet('design.params.a.b=1'), 'design.params.a.b');
  });

  // overrides.ts lines 66 and 71: `near` is sliced to 12 before `near.length > 12` is tested, so the
  // "…" that should say the list was cut never appears (webArm has 14 settable paths).
  it('marks a cut list of known paths with "…"', () => {
    const e = configError(() => withSet('webArm.nope=1'), 'webArm.nope');
    expect(e.fix).toContain('…');
  });

  // overrides.ts line 57: `last in target` also accepts inherited names, so
  // `--set lab.__proto__=1` is silently ignored (and `lab.constructor=1` only fails later, in
  // zod, as an unrecognized key) instead of failing here as an unknown path.
  it('rejects inherited property names as unknown paths', () => {
    configError(() => withSet('lab.__proto__=1'), 'lab.__proto__');
    configError(() => withSet('lab.constructor=1'), 'lab.constructor');
  });
});

describe('listPaths', () => {
  it('lists every settable leaf path in order; arrays and empty objects are leaves', () => {
    const paths = listPaths(defaultConfig());
    expect(paths.slice(0, 9)).toEqual(['lab.name', 'lab.tier', 'lab.guest', 'lab.arch', 'lab.stateDir', 'lab.snapshot', 'lab.designSnapshot', 'image.suite', 'image.mirror']);
    expect(paths).toContain('webArm.ipv6.prefixLength');
    expect(paths).toContain('webArm.firewall.allowDnsOnPodmanBridges');
    expect(paths).toContain('webArm.containers');
    expect(paths).toContain('internet.v6OnlyTarget.ipv6');
    expect(paths).toContain('design.params');
    expect(paths.at(-1)).toBe('design.params');
    expect(paths.some((p) => p.startsWith('webArm.containers.'))).toBe(false);
    expect(new Set(paths).size).toBe(paths.length);
  });

  it('every listed path can be set', () => {
    const config = defaultConfig();
    for (const path of listPaths(config)) {
      expect(() => applyOverrides(config, [{ path, value: 'x' }]), path).not.toThrow();
    }
  });

  it('handles scalars and nesting', () => {
    expect(listPaths({ a: { b: 1, c: { d: [1] } }, e: {} })).toEqual(['a.b', 'a.c.d', 'e']);
    expect(listPaths(5)).toEqual([]);
    expect(listPaths(null)).toEqual([]);
  });
});

describe('validateConfig', () => {
  it('accepts the defaults and returns them', () => {
    expect(validateConfig(defaultConfig())).toEqual(defaultConfig());
  });

  it('accepts reasonable overrides', () => {
    for (const set of ['lab.name=cirunner000001', 'webArm.ipv6.prefixLength=56', 'webArm.mac=96:00:02:c0:12:44', 'internet.client.ipv6=2001:db8:ffff::101']) {
      expect(() => validateConfig(withSet(set)), set).not.toThrow();
    }
  });

  it('rejects a bad lab.name', () => {
    for (const name of ['Main', '1lab', '', 'a'.repeat(17), 'with_underscore', 'has space', '-dash']) {
      const e = configError(() => validateConfig(withSet(`lab.name=${name}`)), 'lab.name');
      expect(e.value).toBe(name);
    }
    expect(() => validateConfig(withSet(`lab.name=${'a'.repeat(16)}`))).not.toThrow();
  });

  it('rejects a webArm.ipv6.address that is not global unicast', () => {
    for (const [address, range] of [['fe80::5', 'linkLocal'], ['fd00::1', 'uniqueLocal'], ['::1', 'loopback'], ['ff02::1', 'multicast']] as const) {
      const e = configError(() => validateConfig(withSet(`webArm.ipv6.address=${address}`)), 'webArm.ipv6.address');
      expect(e.message).toContain(`is ${range}, not a global unicast address`);
    }
    const v4 = configError(() => validateConfig(withSet('webArm.ipv6.address=203.0.113.10')), 'webArm.ipv6.address');
    expect(v4.message).toContain('not an IPv6 address');
    configError(() => validateConfig(withSet('webArm.ipv6.address=2a01:4f8:c012:43b::1/64')), 'webArm.ipv6.address');
  });

  it('rejects a prefix length outside /48–/64', () => {
    configError(() => validateConfig(withSet('webArm.ipv6.prefixLength=80')), 'webArm.ipv6.prefixLength');
    configError(() => validateConfig(withSet('webArm.ipv6.prefixLength=32')), 'webArm.ipv6.prefixLength');
  });

  it('rejects a gateway that is not link-local', () => {
    const e = configError(() => validateConfig(withSet('webArm.ipv6.gateway=2a01:4f8:c012:43b::ffff')), 'webArm.ipv6.gateway');
    expect(e.message).toContain('link-local');
    expect(e.fix).toContain('fe80::1');
  });

  it("rejects a router link-local address that is not web-arm's gateway", () => {
    const e = configError(() => validateConfig(withSet('upstream.linkLocal=fe80::2')), 'upstream.linkLocal');
    expect(e.message).toContain('differs from webArm.ipv6.gateway (fe80::1)');
    configError(() => validateConfig(withSet('upstream.linkLocal=172.31.1.1')), 'upstream.linkLocal');
    // Both moved together is fine.
    const both = applyOverrides(defaultConfig(), [parseOverride('upstream.linkLocal=fe80::2'), parseOverride('webArm.ipv6.gateway=fe80::2')]);
    expect(validateConfig(both).webArm.ipv6.gateway).toBe('fe80::2');
  });

  it('rejects differing IPv4 gateways', () => {
    configError(() => validateConfig(withSet('upstream.ipv4Gateway=172.31.1.2')), 'upstream.ipv4Gateway');
  });

  it('rejects an internet address outside its segment', () => {
    const e = configError(() => validateConfig(withSet('internet.dns.ipv6=2001:db8:fffe::53')), 'internet.dns.ipv6');
    expect(e.message).toContain('outside the internet segment 2001:db8:ffff::/64');
    const v4 = configError(() => validateConfig(withSet('internet.v4OnlyTarget.ipv4=198.51.101.80')), 'internet.v4OnlyTarget.ipv4');
    expect(v4.message).toContain('198.51.100.0/24');
    // The wrong family is "not an address", whatever the segment.
    configError(() => validateConfig(withSet('internet.client.ipv4=2001:db8:ffff::100')), 'internet.client.ipv4');
  });

  it('rejects duplicate internet addresses, naming the first user', () => {
    const v4 = configError(() => validateConfig(withSet('internet.client.ipv4=198.51.100.53')), 'internet.client.ipv4');
    expect(v4.message).toContain('already used by internet.dns.ipv4');
    const v6 = configError(() => validateConfig(withSet('internet.dns.ipv6=2001:db8:ffff::80')), 'internet.dns.ipv6');
    expect(v6.message).toContain('already used by internet.v6OnlyTarget.ipv6');
    // Same address written differently is still the same address.
    const spelled = configError(() => validateConfig(withSet('internet.client.ipv6=2001:0db8:ffff:0::53')), 'internet.client.ipv6');
    expect(spelled.message).toContain('internet.dns.ipv6');
    const router = configError(() => validateConfig(withSet('internet.client.ipv6=2001:db8:ffff::1')), 'internet.client.ipv6');
    expect(router.message).toContain('the upstream router');
  });

  it("rejects an internet segment inside web-arm's /64", () => {
    const e = configError(() => validateConfig(withSet('upstream.internetIpv6=2a01:4f8:c012:43b::ff/64')), 'upstream.internetIpv6');
    expect(e.message).toContain("web-arm's /64");
    configError(() => validateConfig(withSet('upstream.internetIpv6=2001:db8:ffff::1')), 'upstream.internetIpv6');
    configError(() => validateConfig(withSet('upstream.internetIpv4=198.51.100.1/31')), 'upstream.internetIpv4');
  });

  it('rejects a bad MAC: uppercase, multicast, malformed, or the same on both ends', () => {
    for (const mac of ['96:00:02:C0:12:43', '01:00:5e:00:00:01', '96:00:02:c0:12', '96-00-02-c0-12-43', 'zz:00:02:c0:12:43']) {
      const e = configError(() => validateConfig(withSet(`webArm.mac=${mac}`)), 'webArm.mac');
      expect(e.value).toBe(mac);
    }
    configError(() => validateConfig(withSet('upstream.mac=03:00:00:00:00:01')), 'upstream.mac');
    const same = configError(() => validateConfig(withSet('upstream.mac=96:00:02:c0:12:43')), 'upstream.mac');
    expect(same.message).toContain('equals webArm.mac');
  });

  it('rejects a bad uplink name, target name and duplicate container names', () => {
    configError(() => validateConfig(withSet('webArm.uplink=a-very-long-ifname0')), 'webArm.uplink');
    configError(() => validateConfig(withSet('internet.v6OnlyTarget.name=nodot')), 'internet.v6OnlyTarget.name');
    const c = defaultConfig();
    c.webArm.containers[1]!.name = 'collabora';
    configError(() => validateConfig(c), 'webArm.containers.1.name');
  });

  it('turns zod shape errors into a ConfigError naming the field', () => {
    const wrongType = configError(() => validateConfig(withSet('webArm.ipv6.prefixLength="64"')), 'webArm.ipv6.prefixLength');
    expect(wrongType.value).toBe('64');
    expect(wrongType.fix).toContain('README');
    const port = configError(() => validateConfig(withSet('webArm.firewall.allowedTcpPorts=[22,70000]')), 'webArm.firewall.allowedTcpPorts.1');
    expect(port.value).toBe(70000);
    configError(() => validateConfig(withSet('lab.tier=kvm')), 'lab.tier');
    configError(() => validateConfig(withSet('lab.arch=riscv64')), 'lab.arch');
    configError(() => validateConfig(withSet('webArm.firewall.allowPing=yes')), 'webArm.firewall.allowPing');
    const missing = structuredClone(defaultConfig()) as Record<string, unknown>;
    delete missing['upstream'];
    const m = configError(() => validateConfig(missing), 'upstream');
    expect(m.value).toBeUndefined();
    const extra = { ...defaultConfig(), surplus: 1 };
    configError(() => validateConfig(extra), '(config)');
    configError(() => validateConfig(null), '(config)');
  });
});

describe('withConfigDefaults: a config recorded by an earlier version', () => {
  it('gets the fields added since from the defaults; what it recorded wins, arrays whole', () => {
    const recorded = structuredClone(defaultConfig()) as unknown as Record<string, any>;
    delete recorded.webArm.ipv4.reverseName;
    recorded.webArm.ipv4.address = '203.0.113.99';
    recorded.webArm.containers = [recorded.webArm.containers[0]];
    const read = withConfigDefaults(recorded as never);
    expect(read.webArm.ipv4).toEqual({ address: '203.0.113.99', gateway: '172.31.1.1', reverseName: 'web-arm.example' });
    expect(read.webArm.containers).toHaveLength(1);
    expect(validateConfig(read)).toEqual(read);
  });
});
