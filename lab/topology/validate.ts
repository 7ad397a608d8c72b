/**
 * Turns untyped input into a LabConfig or a ConfigError naming the field and the fix.
 * Pure: nothing is created before this has passed.
 */
import ipaddr from 'ipaddr.js';
import { ConfigError } from '../errors.ts';
import { labConfigSchema, type LabConfig } from './config.ts';
import { cidrContains, cidrOf, parseAddress, parseCidr } from './addresses.ts';
import { checkTopology } from './v6only.ts';
import { checkTierConfig } from '../tiers/capabilities.ts';

export function validateConfig(input: unknown): LabConfig {
  const parsed = labConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || '(config)';
    const value = issue.path.reduce<unknown>(
      (node, key) => (node && typeof node === 'object' ? (node as Record<string | number, unknown>)[key as string] : undefined),
      input,
    );
    throw new ConfigError(field, value, issue.message, 'see the README for the type and default of this field');
  }
  const config = parsed.data;
  checkSemantics(config);
  return config;
}

// No dashes: the name ends at the dash of every mark (v6lab-<name>-…), so no lab's marks can
// start with another lab's prefix.
const LAB_NAME = /^[a-z][a-z0-9]{0,15}$/;
const IFNAME = /^[a-zA-Z0-9_.-]{1,15}$/;
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

function checkSemantics(config: LabConfig): void {
  if (!LAB_NAME.test(config.lab.name)) {
    throw new ConfigError('lab.name', config.lab.name, 'must be 1–16 lowercase letters or digits, starting with a letter', 'use a short name such as "main" or "ci1"');
  }
  checkTierConfig(config);
  const w = config.webArm;
  if (!IFNAME.test(w.uplink)) {
    throw new ConfigError('webArm.uplink', w.uplink, 'not a valid interface name (at most 15 characters)', 'use a name such as enp1s0');
  }
  checkMac('webArm.mac', w.mac);
  checkMac('upstream.mac', config.upstream.mac);
  if (w.mac === config.upstream.mac) {
    throw new ConfigError('upstream.mac', config.upstream.mac, 'equals webArm.mac', 'give the router its own MAC address');
  }

  const gua = parseAddress('webArm.ipv6.address', w.ipv6.address, 6, '2a01:4f8:c012:43b::1');
  const range = (gua as ipaddr.IPv6).range();
  if (range !== 'unicast' && range !== 'reserved') {
    throw new ConfigError('webArm.ipv6.address', w.ipv6.address, `is ${range}, not a global unicast address`, 'use the host GUA, e.g. 2a01:4f8:c012:43b::1');
  }
  if (w.ipv6.prefixLength < 48 || w.ipv6.prefixLength > 64) {
    throw new ConfigError('webArm.ipv6.prefixLength', w.ipv6.prefixLength, 'must be between 48 and 64', 'Hetzner Cloud hands out a /64: use 64');
  }
  const gw6 = parseAddress('webArm.ipv6.gateway', w.ipv6.gateway, 6, 'fe80::1');
  if ((gw6 as ipaddr.IPv6).range() !== 'linkLocal') {
    throw new ConfigError('webArm.ipv6.gateway', w.ipv6.gateway, 'must be a link-local address (the router is reached on-link)', 'use fe80::1 as Hetzner does');
  }
  parseAddress('upstream.linkLocal', config.upstream.linkLocal, 6, 'fe80::1');
  if (config.upstream.linkLocal !== w.ipv6.gateway) {
    throw new ConfigError('upstream.linkLocal', config.upstream.linkLocal, `differs from webArm.ipv6.gateway (${w.ipv6.gateway})`, 'set both to the same link-local address');
  }
  parseAddress('webArm.ipv4.address', w.ipv4.address, 4, '203.0.113.10');
  parseAddress('webArm.ipv4.gateway', w.ipv4.gateway, 4, '172.31.1.1');
  parseAddress('upstream.ipv4Gateway', config.upstream.ipv4Gateway, 4, '172.31.1.1');
  if (config.upstream.ipv4Gateway !== w.ipv4.gateway) {
    throw new ConfigError('upstream.ipv4Gateway', config.upstream.ipv4Gateway, `differs from webArm.ipv4.gateway (${w.ipv4.gateway})`, 'set both to the same address');
  }
  parseCidr('webArm.podman.defaultNetworkSubnet', w.podman.defaultNetworkSubnet, 4, '10.88.0.0/16');

  const inet6 = parseInterfaceCidr('upstream.internetIpv6', config.upstream.internetIpv6, 6, '2001:db8:ffff::1/64');
  const inet4 = parseInterfaceCidr('upstream.internetIpv4', config.upstream.internetIpv4, 4, '198.51.100.1/24');
  const hostNet = cidrOf(gua, w.ipv6.prefixLength);
  if (cidrContains(hostNet, inet6.address)) {
    throw new ConfigError('upstream.internetIpv6', config.upstream.internetIpv6, "lies inside web-arm's /64", 'use a separate prefix such as 2001:db8:ffff::1/64');
  }
  const inetMembers: Array<[string, unknown, 4 | 6]> = [
    ['internet.v6OnlyTarget.ipv6', config.internet.v6OnlyTarget.ipv6, 6],
    ['internet.dns.ipv6', config.internet.dns.ipv6, 6],
    ['internet.client.ipv6', config.internet.client.ipv6, 6],
    ['internet.mx.ipv6', config.internet.mx.ipv6, 6],
    ['internet.v4OnlyTarget.ipv4', config.internet.v4OnlyTarget.ipv4, 4],
    ['internet.dns.ipv4', config.internet.dns.ipv4, 4],
    ['internet.client.ipv4', config.internet.client.ipv4, 4],
    ['internet.mx.ipv4', config.internet.mx.ipv4, 4],
  ];
  const seen = new Map<string, string>();
  for (const [field, value, family] of inetMembers) {
    const address = parseAddress(field, value, family, family === 6 ? '2001:db8:ffff::80' : '198.51.100.80');
    const segment = family === 6 ? inet6 : inet4;
    if (!cidrContains(segment.cidr, address)) {
      throw new ConfigError(field, value, `is outside the internet segment ${segment.cidr.text}`, `pick an address inside ${segment.cidr.text}`);
    }
    const key = address.toString();
    if (key === segment.address.toString() || seen.has(key)) {
      throw new ConfigError(field, value, `is already used by ${seen.get(key) ?? 'the upstream router'}`, 'give every internet host its own address');
    }
    seen.set(key, field);
  }
  const dnsNames: Array<[string, string]> = [
    ['internet.v6OnlyTarget.name', config.internet.v6OnlyTarget.name],
    ['internet.v4OnlyTarget.name', config.internet.v4OnlyTarget.name],
    ['internet.mx.name', config.internet.mx.name],
    ['webArm.ipv4.reverseName', config.webArm.ipv4.reverseName],
  ];
  const seenNames = new Map<string, string>();
  for (const [field, value] of dnsNames) {
    if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(value)) {
      throw new ConfigError(field, value, 'not a DNS name', 'use a name such as v6only.example');
    }
    if (seenNames.has(value)) {
      throw new ConfigError(field, value, `is already the name of ${seenNames.get(value)}`, 'give every internet host its own DNS name');
    }
    seenNames.set(value, field);
  }

  checkTopology(config);

  const names = new Set<string>();
  config.webArm.containers.forEach((c, i) => {
    if (!CONTAINER_NAME.test(c.name) || names.has(c.name)) {
      throw new ConfigError(`webArm.containers.${i}.name`, c.name, 'not a valid, unique container name', 'use letters, digits, dot, dash or underscore');
    }
    names.add(c.name);
  });
}

function checkMac(field: string, value: string): void {
  const firstOctet = Number.parseInt(value.slice(0, 2), 16);
  if (!MAC.test(value) || (firstOctet & 1) === 1) {
    throw new ConfigError(field, value, 'not a unicast MAC address in lowercase colon form', 'use e.g. 96:00:02:c0:12:43');
  }
}

function parseInterfaceCidr(field: string, value: unknown, family: 4 | 6, example: string) {
  if (typeof value !== 'string' || !value.includes('/')) {
    throw new ConfigError(field, value, 'needs address/prefix', `use e.g. ${example}`);
  }
  const [text, lengthText] = value.split('/') as [string, string];
  const address = parseAddress(field, text, family, example.split('/')[0]!);
  const prefixLength = Number(lengthText);
  const max = family === 6 ? 128 : 32;
  if (!Number.isInteger(prefixLength) || prefixLength < 8 || prefixLength > max - 2) {
    throw new ConfigError(field, value, 'has a prefix length that leaves no room for hosts', `use e.g. ${example}`);
  }
  return { address, prefixLength, cidr: cidrOf(address, prefixLength) };
}
