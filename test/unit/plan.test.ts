import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lab/errors.ts';
import { defaultConfig } from '../../lab/topology/config.ts';
import { applyOverrides } from '../../lab/topology/overrides.ts';
import { labHash, nodeNames, planLab, type LabPlan } from '../../lab/topology/plan.ts';
import { validateConfig } from '../../lab/topology/validate.ts';

/** The plan of a validated config with the given lab name. */
function planFor(name: string): LabPlan {
  return planLab(validateConfig(applyOverrides(defaultConfig(), [{ path: 'lab.name', value: name }])));
}

/** Every interface name the lab creates, with where it lives. */
function interfaceNames(plan: LabPlan): Array<[string, string]> {
  return [
    ['webArm.uplinkTmp', plan.webArm.uplinkTmp],
    ['upstream.toWebArmTmp', plan.upstream.toWebArmTmp],
    ['upstream.toWebArmIf', plan.upstream.toWebArmIf],
    ['upstream.bridge', plan.upstream.bridge],
    ['config uplink', plan.config.webArm.uplink],
    ...plan.internet.flatMap((h): Array<[string, string]> => [
      [`${h.node}.tmpIf`, h.tmpIf],
      [`${h.node}.peerTmpIf`, h.peerTmpIf],
      [`${h.node}.ifname`, h.ifname],
      [`${h.node}.peerIfname`, h.peerIfname],
    ]),
  ];
}

/** Names that live in the root namespace (or machine-wide) and must not clash between labs. */
function sharedNames(plan: LabPlan): string[] {
  return [
    plan.webArm.netnsName,
    plan.upstream.netnsName,
    ...plan.internet.map((h) => h.netnsName),
    plan.upstream.containerName,
    ...plan.internet.map((h) => h.containerName),
    plan.webArm.uplinkTmp,
    plan.upstream.toWebArmTmp,
    ...plan.internet.flatMap((h) => [h.tmpIf, h.peerTmpIf]),
    plan.runtimeDir,
    plan.stateDir,
  ];
}

const NAMES = ['a', 'main', 'ci1', 'ci2', 'xyz', 'abcdefghijklmnop', 'z999999999999999', 'labwithoutdashes'];

describe('planLab interface names', () => {
  for (const name of NAMES) {
    it(`are valid Linux interface names (≤ 15 characters) for lab "${name}"`, () => {
      const plan = planFor(name);
      for (const [what, ifname] of interfaceNames(plan)) {
        expect(ifname.length, `${what} = ${ifname}`).toBeGreaterThan(0);
        expect(ifname.length, `${what} = ${ifname}`).toBeLessThanOrEqual(15);
        expect(ifname, what).toMatch(/^[A-Za-z0-9_.-]+$/);
      }
    });
  }

  it('uses a 13-character link prefix for every root-namespace name', () => {
    const plan = planFor('abcdefghijklmnop');
    expect(plan.linkPrefix).toMatch(/^v6l[0-9a-f]{10}$/);
    expect(plan.linkPrefix).toBe(`v6l${labHash('abcdefghijklmnop')}`);
    for (const n of [plan.webArm.uplinkTmp, plan.upstream.toWebArmTmp, ...plan.internet.flatMap((h) => [h.tmpIf, h.peerTmpIf])]) {
      expect(n.startsWith(plan.linkPrefix)).toBe(true);
    }
  });

  it('gives distinct names to the interfaces sharing a namespace', () => {
    const plan = planFor('main');
    const root = [plan.webArm.uplinkTmp, plan.upstream.toWebArmTmp, ...plan.internet.flatMap((h) => [h.tmpIf, h.peerTmpIf])];
    expect(new Set(root).size).toBe(root.length);
    // In the upstream namespace: the link to web-arm, the bridge and one peer per internet host.
    const upstream = [plan.upstream.toWebArmIf, plan.upstream.bridge, ...plan.internet.map((h) => h.peerIfname)];
    expect(new Set(upstream).size).toBe(upstream.length);
    expect(plan.internet.map((h) => h.peerIfname)).toEqual(['p-v6only-target', 'p-v4only-target', 'p-dns', 'p-internet-clie', 'p-mx']);
  });
});

describe('planLab for concurrent labs', () => {
  const pairs: Array<[string, string]> = [
    ['main', 'ci1'],
    ['ci1', 'ci2'],
    ['a', 'b'],
    ['ci', 'ci2'],
    ['abcdefghijklmnop', 'abcdefghijklmnoq'],
  ];

  for (const [a, b] of pairs) {
    it(`"${a}" and "${b}" share no namespace, container, link, runtime or state name`, () => {
      const pa = planFor(a);
      const pb = planFor(b);
      expect(pa.linkPrefix).not.toBe(pb.linkPrefix);
      expect(pa.netnsPrefix).not.toBe(pb.netnsPrefix);
      expect(pa.runtimeDir).not.toBe(pb.runtimeDir);
      expect(pa.stateDir).not.toBe(pb.stateDir);
      expect(pa.engineSocket).not.toBe(pb.engineSocket);
      const setB = new Set(sharedNames(pb));
      for (const n of sharedNames(pa)) expect(setB.has(n), n).toBe(false);
      // No root-namespace link of one lab starts with the other's link prefix (`down` deletes by prefix).
      const linksB = sharedNames(pb).filter((n) => n.startsWith('v6l'));
      for (const l of linksB) expect(l.startsWith(pa.linkPrefix), l).toBe(false);
    });
  }

  // `lab down` deletes every netns whose name starts with plan.netnsPrefix ("v6lab-<name>-").
  // Were dashes allowed, lab "ci"'s prefix "v6lab-ci-" would also match lab "ci-2"'s
  // namespaces; names without dashes keep every lab's marks apart.
  it('refuses lab names with a dash, so no lab\'s namespaces start with another lab\'s prefix', () => {
    expect(() => validateConfig(applyOverrides(defaultConfig(), [{ path: 'lab.name', value: 'ci-2' }]))).toThrow(ConfigError);
    const ci = planFor('ci');
    const ci2 = planFor('ci2');
    const namespaces = [ci2.webArm.netnsName, ci2.upstream.netnsName, ...ci2.internet.map((h) => h.netnsName)];
    for (const ns of namespaces) expect(ns.startsWith(ci.netnsPrefix), ns).toBe(false);
  });

  // With 16 bits of hash, "ci23" and "ci495" collided (v6l0e62): the link prefix now carries 40.
  it('gives "ci23" and "ci495" different link prefixes', () => {
    expect(planFor('ci23').linkPrefix).not.toBe(planFor('ci495').linkPrefix);
  });
});

describe('planLab determinism and content', () => {
  it('gives the same plan for the same config', () => {
    const a = planFor('main');
    const b = planFor('main');
    expect(a).toEqual(b);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(labHash('main')).toBe(labHash('main'));
    expect(labHash('main')).toMatch(/^[0-9a-f]{10}$/);
  });

  it('names everything after the lab', () => {
    const plan = planFor('ci1');
    expect(plan.name).toBe('ci1');
    expect(plan.netnsPrefix).toBe('v6lab-ci1-');
    expect(plan.webArm.netnsName).toBe('v6lab-ci1-web-arm');
    expect(plan.webArm.netnsPath).toBe('/run/netns/v6lab-ci1-web-arm');
    expect(plan.upstream.containerName).toBe('v6lab-ci1-upstream');
    expect(plan.internet.map((h) => h.containerName)).toEqual([
      'v6lab-ci1-v6only-target', 'v6lab-ci1-v4only-target', 'v6lab-ci1-dns', 'v6lab-ci1-internet-client', 'v6lab-ci1-mx',
    ]);
    expect(plan.runtimeDir.endsWith('/ci1')).toBe(true);
    expect(plan.stateDir.endsWith('/.lab/ci1')).toBe(true);
    expect(plan.webArm.apiSocket.startsWith(plan.runtimeDir)).toBe(true);
    expect(plan.webArm.graphRoot.startsWith(plan.stateDir)).toBe(true);
    expect(nodeNames(plan)).toEqual(['web-arm', 'upstream', 'v6only-target', 'v4only-target', 'dns', 'internet-client', 'mx']);
  });

  it('puts the internet addresses and DNS records from the config into the hosts', () => {
    const plan = planFor('main');
    const dns = plan.internet.find((h) => h.node === 'dns');
    expect(dns).toMatchObject({ ipv6: '2001:db8:ffff::53', ipv4: '198.51.100.53' });
    expect(dns?.command).toContain('--host-record=v6only.example,2001:db8:ffff::80');
    expect(dns?.command).toContain('--host-record=v4only.example,198.51.100.80');
    expect(dns?.command).toContain('--local=/example/');
    expect(dns?.command.filter((a) => a.startsWith('--local='))).toEqual(['--local=/example/', '--local=/in-addr.arpa/', '--local=/ip6.arpa/']);
    // web-arm's IPv4 has forward-confirmed reverse DNS (host-record makes the PTR too); its GUA none.
    expect(dns?.command).toContain('--host-record=web-arm.example,203.0.113.10');
    expect(dns?.command.filter((a) => a.includes('2a01:4f8:c012:43b'))).toEqual([]);
    const v6only = plan.internet.find((h) => h.node === 'v6only-target');
    expect(v6only?.ipv4).toBeUndefined();
    expect(v6only?.command).toEqual(['/usr/local/bin/v6lab-responder', '--name', 'v6only.example', '--http', '80', '--log', '/var/log/v6lab/seen.log']);
  });

  it('plans the dual-stack mail exchanger: an SMTP sink on 25, A, AAAA and the MX of its domain', () => {
    const plan = planFor('main');
    const mx = plan.internet.find((h) => h.node === 'mx');
    expect(mx).toMatchObject({ ipv6: '2001:db8:ffff::25', ipv4: '198.51.100.25', containerName: 'v6lab-main-mx', peerIfname: 'p-mx' });
    expect(mx?.command).toEqual(['/usr/local/bin/v6lab-responder', '--name', 'mx.example', '--smtp', '25', '--dns', '2001:db8:ffff::53', '--log', '/var/log/v6lab/seen.log']);
    // Appended last: the hosts before it keep their veth names.
    expect(mx?.tmpIf).toBe(`${plan.linkPrefix}h4`);
    const dns = plan.internet.find((h) => h.node === 'dns');
    expect(dns?.command).toContain('--host-record=mx.example,198.51.100.25,2001:db8:ffff::25');
    expect(dns?.command).toContain('--mx-host=example,mx.example,10');
  });

  it('serves the MX of another domain from the DNS as a local domain too', () => {
    const config = validateConfig(applyOverrides(defaultConfig(), [{ path: 'internet.mx.name', value: 'mail.lab.test' }]));
    const dns = planLab(config).internet.find((h) => h.node === 'dns');
    expect(dns?.command.filter((a) => a.startsWith('--local='))).toEqual(['--local=/example/', '--local=/lab.test/', '--local=/in-addr.arpa/', '--local=/ip6.arpa/']);
    expect(dns?.command).toContain('--mx-host=lab.test,mail.lab.test,10');
  });

  it('uses the configured state directory when set', () => {
    const config = validateConfig(applyOverrides(defaultConfig(), [{ path: 'lab.stateDir', value: '/var/tmp/v6lab-state' }]));
    const plan = planLab(config);
    expect(plan.stateDir).toBe('/var/tmp/v6lab-state');
    expect(plan.webArm.persistentDir).toBe('/var/tmp/v6lab-state/web-arm');
  });
});
