import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lab/errors.ts';
import {
  cidrContains,
  cidrOf,
  cidrsOverlap,
  hostInSubnet,
  isPrivateIpv4,
  isUniqueLocal,
  networkAddress,
  normalizeAddress,
  parseAddress,
  parseCidr,
} from '../../lab/topology/addresses.ts';
import { thrown } from './helpers/golden.ts';

const v6 = (text: string, example = 'fdaa:bbcc:ddee::/64') => parseCidr('f', text, 6, example);
const v4 = (text: string, example = '10.89.0.0/24') => parseCidr('f', text, 4, example);

function configError(fn: () => unknown, field = 'f'): ConfigError {
  const e = thrown(fn);
  expect(e).toBeInstanceOf(ConfigError);
  expect((e as ConfigError).field).toBe(field);
  expect((e as ConfigError).exitCode).toBe(2);
  return e as ConfigError;
}

describe('parseCidr', () => {
  it('parses IPv4 and IPv6 subnets into canonical text', () => {
    expect(v6('fdaa:bbcc:ddee::/64')).toMatchObject({ family: 6, prefixLength: 64, text: 'fdaa:bbcc:ddee::/64' });
    expect(v6('FDAA:BBCC:DDEE:0000::/64').text).toBe('fdaa:bbcc:ddee::/64');
    expect(v4('10.89.0.0/24')).toMatchObject({ family: 4, prefixLength: 24, text: '10.89.0.0/24' });
    expect(v4('0.0.0.0/0').text).toBe('0.0.0.0/0');
    expect(v6('::/0').text).toBe('::/0');
    // Bits inside the prefix are not host bits.
    expect(v6('fdaa:bbcc:ddee:ff00::/56').text).toBe('fdaa:bbcc:ddee:ff00::/56');
  });

  it('rejects host bits, with a fix that names the network address', () => {
    const e = configError(() => parseCidr('design.params.ipv6Subnet', 'fdaa:bbcc:ddee::1/64', 6, 'fdaa:bbcc:ddee::/64'), 'design.params.ipv6Subnet');
    expect(e.message).toContain('host bits are set');
    expect(e.fix).toBe('use the network address: fdaa:bbcc:ddee::/64');
    expect(e.value).toBe('fdaa:bbcc:ddee::1/64');
    expect(configError(() => v4('10.89.0.1/24')).fix).toBe('use the network address: 10.89.0.0/24');
    expect(configError(() => v4('10.89.7.0/20')).fix).toBe('use the network address: 10.89.0.0/20');
    expect(configError(() => v6('fdaa:bbcc:ddee:ff::/56')).fix).toBe('use the network address: fdaa:bbcc:ddee::/56');
  });

  it('rejects the wrong family, naming both', () => {
    const e = configError(() => v6('10.89.0.0/24'));
    expect(e.message).toContain('an IPv4 subnet where IPv6 is needed');
    expect(e.fix).toContain('fdaa:bbcc:ddee::/64');
    expect(configError(() => v4('fdaa::/64')).message).toContain('an IPv6 subnet where IPv4 is needed');
  });

  it('rejects what is not CIDR text', () => {
    for (const bad of ['fdaa::', '10.89.0.0', 'not/24', '10.89.0.0/33', 'fdaa::/129', 42, undefined]) {
      const e = configError(() => parseCidr('f', bad, 4, '10.89.0.0/24'));
      expect(e.message).toMatch(/not an IPv4 subnet in CIDR form|IPv6 subnet where IPv4/);
    }
  });
});

describe('parseAddress', () => {
  it('parses an address of the right family', () => {
    expect(parseAddress('f', '2a01:4f8:c012:43b::1', 6, 'x').toString()).toBe('2a01:4f8:c012:43b::1');
    expect(parseAddress('f', '203.0.113.10', 4, 'x').kind()).toBe('ipv4');
  });

  it('rejects the other family, CIDR text and non-strings', () => {
    expect(configError(() => parseAddress('f', '203.0.113.10', 6, 'fe80::1')).fix).toContain('fe80::1');
    configError(() => parseAddress('f', 'fe80::1', 4, '1.2.3.4'));
    configError(() => parseAddress('f', '10.0.0.0/8', 4, '1.2.3.4'));
    configError(() => parseAddress('f', 'garbage', 6, 'fe80::1'));
    configError(() => parseAddress('f', 1234, 4, '1.2.3.4'));
  });
});

describe('cidrContains / cidrsOverlap', () => {
  const host64 = v6('2a01:4f8:c012:43b::/64');

  it('contains addresses of the subnet only', () => {
    expect(cidrContains(host64, ipaddr.parse('2a01:4f8:c012:43b::1'))).toBe(true);
    expect(cidrContains(host64, ipaddr.parse('2a01:4f8:c012:43b:ffff:ffff:ffff:ffff'))).toBe(true);
    expect(cidrContains(host64, ipaddr.parse('2a01:4f8:c012:43c::1'))).toBe(false);
    expect(cidrContains(v4('10.88.0.0/16'), ipaddr.parse('10.88.255.255'))).toBe(true);
    expect(cidrContains(v4('10.88.0.0/16'), ipaddr.parse('10.89.0.1'))).toBe(false);
  });

  it('never contains an address of the other family', () => {
    expect(cidrContains(v6('::/0'), ipaddr.parse('10.0.0.1'))).toBe(false);
    expect(cidrContains(v4('0.0.0.0/0'), ipaddr.parse('::1'))).toBe(false);
  });

  it('detects overlap in both directions, and not for disjoint or other-family subnets', () => {
    const inner = v6('2a01:4f8:c012:43b:1::/80');
    expect(cidrsOverlap(host64, inner)).toBe(true);
    expect(cidrsOverlap(inner, host64)).toBe(true);
    expect(cidrsOverlap(host64, host64)).toBe(true);
    expect(cidrsOverlap(v4('10.88.0.0/16'), v4('10.89.0.0/24'))).toBe(false);
    expect(cidrsOverlap(v4('10.88.0.0/16'), v4('10.88.128.0/24'))).toBe(true);
    expect(cidrsOverlap(v4('10.0.0.0/8'), v4('10.88.0.0/16'))).toBe(true);
    expect(cidrsOverlap(v6('fdaa:bbcc:ddee::/64'), v6('fdaa:bbcc:ddef::/64'))).toBe(false);
    expect(cidrsOverlap(v6('::/0'), v4('0.0.0.0/0'))).toBe(false);
  });
});

describe('cidrOf / networkAddress', () => {
  it('masks the host bits', () => {
    expect(cidrOf(ipaddr.parse('2a01:4f8:c012:43b::1'), 64).text).toBe('2a01:4f8:c012:43b::/64');
    expect(cidrOf(ipaddr.parse('203.0.113.10'), 24)).toMatchObject({ family: 4, text: '203.0.113.0/24', prefixLength: 24 });
    expect(networkAddress(ipaddr.parse('10.89.7.200'), 20).toString()).toBe('10.89.0.0');
    expect(networkAddress(ipaddr.parse('10.89.7.200'), 32).toString()).toBe('10.89.7.200');
    expect(networkAddress(ipaddr.parse('10.89.7.200'), 0).toString()).toBe('0.0.0.0');
  });
});

describe('isUniqueLocal / isPrivateIpv4', () => {
  it('knows fc00::/7 and RFC 1918', () => {
    expect(isUniqueLocal(ipaddr.parse('fdaa:bbcc:ddee::'))).toBe(true);
    expect(isUniqueLocal(ipaddr.parse('fc00::1'))).toBe(true);
    expect(isUniqueLocal(ipaddr.parse('fe80::1'))).toBe(false);
    expect(isUniqueLocal(ipaddr.parse('2001:db8:1::'))).toBe(false);
    expect(isUniqueLocal(ipaddr.parse('10.0.0.1'))).toBe(false);
    expect(isPrivateIpv4(ipaddr.parse('10.89.0.0'))).toBe(true);
    expect(isPrivateIpv4(ipaddr.parse('172.16.0.0'))).toBe(true);
    expect(isPrivateIpv4(ipaddr.parse('192.168.1.0'))).toBe(true);
    expect(isPrivateIpv4(ipaddr.parse('8.8.8.0'))).toBe(false);
    expect(isPrivateIpv4(ipaddr.parse('fdaa::'))).toBe(false);
  });
});

describe('hostInSubnet', () => {
  it('gives the n-th host address, carrying across bytes', () => {
    expect(hostInSubnet(v4('10.89.0.0/24'), 1)).toBe('10.89.0.1');
    expect(hostInSubnet(v4('10.89.0.0/16'), 256)).toBe('10.89.1.0');
    expect(hostInSubnet(v4('10.89.0.0/16'), 257)).toBe('10.89.1.1');
    expect(hostInSubnet(v6('fdaa:bbcc:ddee::/64'), 1)).toBe('fdaa:bbcc:ddee::1');
    expect(hostInSubnet(v6('fdaa:bbcc:ddee::/64'), 0x10000)).toBe('fdaa:bbcc:ddee::1:0');
    expect(hostInSubnet(v6('fdaa:bbcc:ddee::/64'), 0)).toBe('fdaa:bbcc:ddee::');
  });
});

describe('normalizeAddress', () => {
  it('gives the canonical text and drops a zone index', () => {
    expect(normalizeAddress('2A01:04F8:C012:043B:0000:0000:0000:0001')).toBe('2a01:4f8:c012:43b::1');
    expect(normalizeAddress('fe80::1%enp1s0')).toBe('fe80::1');
    expect(normalizeAddress('fe80:0:0:0::1%eth0')).toBe('fe80::1');
    expect(normalizeAddress('198.51.100.1')).toBe('198.51.100.1');
  });

  it('throws on text that is not an address', () => {
    expect(() => normalizeAddress('not-an-address')).toThrow();
  });
});
