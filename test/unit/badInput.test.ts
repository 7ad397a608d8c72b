/**
 * Bad input, table-driven: every case is a `--set` a user could type; each must fail before
 * anything is created, with a ConfigError naming the field and a fix (exit 2).
 */
import { describe, expect, it } from 'vitest';
import { validateDesign } from '../../lab/designs/registry.ts';
import { ConfigError } from '../../lab/errors.ts';
import { defaultConfig } from '../../lab/topology/config.ts';
import { applyOverrides, parseOverride } from '../../lab/topology/overrides.ts';
import { validateConfig } from '../../lab/topology/validate.ts';

/** What `lab up` does with the flags before it creates anything. */
function validate(...sets: string[]): void {
  const config = validateConfig(applyOverrides(defaultConfig(), sets.map(parseOverride)));
  validateDesign(config);
}

const CASES: Array<[string, string, RegExp?]> = [
  // lab
  ['lab.name=', 'lab.name'],
  ['lab.name=Main', 'lab.name'],
  ['lab.name=ci-2', 'lab.name'],
  ['lab.name=averyveryverylongname', 'lab.name'],
  ['lab.tier=vagrant', 'lab.guest', /NixOS box/],
  ['lab.guest=nixos', 'lab.guest', /netns tier has no guest OS/],
  ['lab.guest=arch', 'lab.guest'],
  ['lab.arch=riscv64', 'lab.arch'],
  ['lab.tier=kvm', 'lab.tier'],
  ['lab.nope=1', 'lab.nope', /no such config path/],
  // web-arm
  ['webArm.uplink=enp1s0-with-a-long-name', 'webArm.uplink', /15 characters/],
  ['webArm.mac=01:00:5e:00:00:01', 'webArm.mac', /unicast/],
  ['webArm.mac=96-00-02-c0-12-43', 'webArm.mac'],
  ['webArm.ipv6.address=2a01:4f8:c012:43b::1/64', 'webArm.ipv6.address', /not an IPv6 address/],
  ['webArm.ipv6.address=203.0.113.10', 'webArm.ipv6.address', /not an IPv6 address/],
  ['webArm.ipv6.address=fd00::1', 'webArm.ipv6.address', /global unicast/],
  ['webArm.ipv6.prefixLength=80', 'webArm.ipv6.prefixLength'],
  ['webArm.ipv6.prefixLength="64"', 'webArm.ipv6.prefixLength'],
  ['webArm.ipv6.gateway=2a01:4f8:c012:43b::ffff', 'webArm.ipv6.gateway', /link-local/],
  ['webArm.ipv4.address=2a01::1', 'webArm.ipv4.address', /not an IPv4 address/],
  ['webArm.ipv4.gateway=172.31.1', 'webArm.ipv4.gateway'],
  ['webArm.podman.defaultNetworkSubnet=10.88.0.1/16', 'webArm.podman.defaultNetworkSubnet', /host bits/],
  ['webArm.firewall.allowedTcpPorts=[22,70000]', 'webArm.firewall.allowedTcpPorts.1'],
  // upstream and internet
  ['upstream.mac=96:00:02:c0:12:43', 'upstream.mac', /equals webArm.mac/],
  ['upstream.linkLocal=fe80::2', 'upstream.linkLocal', /differs/],
  ['upstream.ipv4Gateway=172.31.1.2', 'upstream.ipv4Gateway'],
  ['upstream.internetIpv6=2a01:4f8:c012:43b::1:1/64', 'upstream.internetIpv6', /inside web-arm's \/64/],
  ['upstream.internetIpv6=2001:db8:ffff::1/127', 'upstream.internetIpv6'],
  ['internet.v6OnlyTarget.ipv6=2001:db8:eeee::80', 'internet.v6OnlyTarget.ipv6', /outside the internet segment/],
  ['internet.v4OnlyTarget.ipv4=198.51.100.53', 'internet.dns.ipv4', /already used/],
  ['internet.dns.ipv6=2001:db8:ffff::1', 'internet.dns.ipv6', /already used/],
  ['internet.v6OnlyTarget.name=v6only', 'internet.v6OnlyTarget.name', /DNS name/],
  ['internet.mx.ipv6=2001:db8:eeee::25', 'internet.mx.ipv6', /outside the internet segment/],
  ['internet.mx.ipv4=198.51.100.100', 'internet.mx.ipv4', /already used by internet.client.ipv4/],
  ['internet.mx.ipv6=2001:db8:ffff::53', 'internet.mx.ipv6', /already used by internet.dns.ipv6/],
  ['internet.mx.ipv4=2001:db8:ffff::25', 'internet.mx.ipv4', /not an IPv4 address/],
  ['internet.mx.name=mx', 'internet.mx.name', /DNS name/],
  ['internet.mx.name=v6only.example', 'internet.mx.name', /already the name of internet.v6OnlyTarget.name/],
  // designs
  ['design.name=routed', 'design.name', /v6egress/],
  ['design.params.ipv6Subnet=2001:db8:1::/64', 'design.params.ipv6Subnet', /not a ULA/],
  ['design.params.ipv6Subnet=2a01:4f8:c012:43b:1::/80', 'design.params.ipv6Subnet', /host's \/64/],
  ['design.params.ipv6Subnet=10.89.0.0/24', 'design.params.ipv6Subnet', /IPv4 subnet where IPv6/],
  ['design.params.ipv6Subnet=fdaa:bbcc:ddee::1/64', 'design.params.ipv6Subnet', /host bits/],
  ['design.params.ipv6Subnet=fdaa::/40', 'design.params.ipv6Subnet', /prefix length/],
  ['design.params.ipv6Subnet=fdaa:bbcc:ddee::', 'design.params.ipv6Subnet', /CIDR/],
  ['design.params.ipv4Subnet=10.88.5.0/24', 'design.params.ipv4Subnet', /overlaps the default podman network/],
  ['design.params.ipv4Subnet=8.8.8.0/24', 'design.params.ipv4Subnet', /private/],
  ['design.params.ipv4Subnet=fdaa::/64', 'design.params.ipv4Subnet', /IPv6 subnet where IPv4/],
  ['design.params.ipv4Subnet=10.89.0.0/30', 'design.params.ipv4Subnet', /prefix length/],
  ['design.params.networkName=podman', 'design.params.networkName'],
  ['design.params.networkName=-bad', 'design.params.networkName'],
  ['design.params.probeName=collabora', 'design.params.probeName', /live container/],
  ['design.params.probePort=0', 'design.params.probePort'],
  ['design.params.strictEnsure=maybe', 'design.params.strictEnsure', /boolean/],
  ['design.params.subnet=fdaa::/64', 'design.params.subnet', /not a parameter/],
  ['--set-without-equals', '--set', /path=value/],
];

/** The routed sub-prefix designs' own table (design.name is set first). */
const ROUTED_CASES: Array<[string, string, RegExp?]> = [
  ['design.params.ipv6Subnet=2a01:4f8:c012:43c:1::/80', 'design.params.ipv6Subnet', /not a sub-prefix of the host's/],
  ['design.params.ipv6Subnet=2001:db8:1::/80', 'design.params.ipv6Subnet', /not a sub-prefix/],
  ['design.params.ipv6Subnet=2a01:4f8:c012:43b::/80', 'design.params.ipv6Subnet', /contains the host address/],
  ['design.params.ipv6Subnet=2a01:4f8:c012:43b::/64', 'design.params.ipv6Subnet', /not a sub-prefix/],
  ['design.params.ipv6Subnet=10.90.0.0/24', 'design.params.ipv6Subnet', /IPv4 subnet where IPv6/],
  ['design.params.ipv6Subnet=2a01:4f8:c012:43b:1::/124', 'design.params.ipv6Subnet', /prefix length/],
  ['design.params.ipv6Subnet=2a01:4f8:c012:43b:1::1/80', 'design.params.ipv6Subnet', /host bits/],
  ['design.params.ipv4Subnet=10.88.1.0/24', 'design.params.ipv4Subnet', /default podman network/],
  ['design.params.ndpProxy=ndppd', 'design.params.ndpProxy', /NDP proxy/],
  ['design.params.strictEnsure=true', 'design.params.strictEnsure', /not a parameter/],
];

describe('bad input for the routed designs', () => {
  for (const design of ['routed-subprefix', 'routed-subprefix-ndp']) {
    for (const [set, field, message] of ROUTED_CASES) {
      it(`${design}: ${set} → ${field}`, () => {
        let error: unknown;
        try {
          validate(`design.name=${design}`, set);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).field).toBe(field);
        if (message) expect((error as ConfigError).message).toMatch(message);
      });
    }
  }
  it('accepts the defaults and another /80 inside the host /64', () => {
    expect(() => validate('design.name=routed-subprefix')).not.toThrow();
    expect(() => validate('design.name=routed-subprefix-ndp', 'design.params.ipv6Subnet=2a01:4f8:c012:43b:abcd::/80')).not.toThrow();
  });
});

describe('bad input', () => {
  it('has at least 30 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });
  for (const [set, field, message] of CASES) {
    it(`${set} → ${field}`, () => {
      let error: unknown;
      try {
        validate(set);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const e = error as ConfigError;
      expect(e.field).toBe(field);
      expect(e.exitCode).toBe(2);
      expect(e.fix.length).toBeGreaterThan(5);
      expect(e.message).toContain(field);
      if (message) expect(e.message).toMatch(message);
    });
  }
});

/** The Docker designs' own tables (qemu tier: they need a real dockerd). */
const QEMU = 'lab.tier=qemu';
const DOCKER_CASES: Array<[string, string[], string, RegExp?]> = [
  ['docker-routed-ndp', ['design.params.ipv6Subnet=2a01:4f8:c012:43c:2::/80'], 'design.params.ipv6Subnet', /not a sub-prefix of the host's/],
  ['docker-routed-ndp', ['design.params.ipv6Subnet=2001:db8:2::/80'], 'design.params.ipv6Subnet', /not a sub-prefix/],
  ['docker-routed-ndp', ['design.params.ipv6Subnet=2a01:4f8:c012:43b::/80'], 'design.params.ipv6Subnet', /contains the host address/],
  ['docker-routed-ndp', ['design.params.ipv6Subnet=2a01:4f8:c012:43b:2::/96'], 'design.params.ipv6Subnet', /longer than \/80/],
  ['docker-routed-ndp', ['design.params.ndpProxy=proxy_ndp'], 'design.params.ndpProxy', /NDP proxy/],
  ['docker-routed-ndp', ['design.params.unpublishedPort=8080'], 'design.params.unpublishedPort'],
  ['docker-ula-portfwd', ['design.params.ipv6Subnet=2a01:4f8:c012:43b:3::/80'], 'design.params.ipv6Subnet', /overlaps the host's/],
  ['docker-ula-portfwd', ['design.params.ipv6Subnet=2001:db8:3::/64'], 'design.params.ipv6Subnet', /not a ULA/],
  ['docker-ula-portfwd', ['design.params.ipv4Subnet=172.17.5.0/24'], 'design.params.ipv4Subnet', /docker0's 172.17.0.0\/16/],
  ['docker-ula-portfwd', ['design.params.ipv4Subnet=10.88.1.0/24'], 'design.params.ipv4Subnet', /default podman network/],
  ['docker-ula-portfwd', ['design.params.publishPort=9980'], 'design.params.publishPort', /already published by collabora/],
  ['docker-ula-portfwd', ['design.params.publishPort=0'], 'design.params.publishPort'],
  ['docker-ula-portfwd', ['design.params.unpublishedPort=8080'], 'design.params.unpublishedPort', /equals probePort/],
  ['docker-ula-portfwd', ['webArm.docker.enabled=false'], 'webArm.docker.enabled', /Docker setup/],
];

describe('bad input for the Docker designs', () => {
  for (const [design, sets, field, message] of DOCKER_CASES) {
    it(`${design}: ${sets.join(' ')} → ${field}`, () => {
      const error = (() => {
        try {
          validate(QEMU, `design.name=${design}`, ...sets);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe(field);
      if (message) expect((error as ConfigError).message).toMatch(message);
    });
  }
  for (const design of ['docker-routed-ndp', 'docker-ula-portfwd']) {
    it(`${design} needs the qemu tier (a real dockerd)`, () => {
      expect(() => validate(`design.name=${design}`)).toThrow(/needs docker .*use --host qemu/);
    });
    it(`${design} accepts its defaults on the qemu tier`, () => {
      expect(() => validate(QEMU, `design.name=${design}`)).not.toThrow();
    });
  }
  it("netavark's nftables driver only where its netavark has it", () => {
    expect(() => validate('webArm.podman.firewallDriver=nftables')).toThrow(/iptables driver only/);
    expect(() => validate(QEMU, 'webArm.podman.firewallDriver=nftables')).not.toThrow();
    expect(() => validate(QEMU, 'webArm.podman.firewallDriver=pf')).toThrow(ConfigError);
  });
  it('v6egress acceptPodmanInDockerUser needs dockerd', () => {
    expect(() => validate('design.params.acceptPodmanInDockerUser=true')).toThrow(/DOCKER-USER/);
    expect(() => validate(QEMU, 'design.params.acceptPodmanInDockerUser=true')).not.toThrow();
  });
});
