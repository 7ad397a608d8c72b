/**
 * Address helpers on ipaddr.js that fail with a ConfigError naming the field. Pure.
 */
import ipaddr from 'ipaddr.js';
import { ConfigError } from '../errors.ts';

export type Family = 4 | 6;

export interface Cidr {
  family: Family;
  address: ipaddr.IPv4 | ipaddr.IPv6;
  prefixLength: number;
  /** Canonical text, e.g. "fdaa:bbcc:ddee::/64". */
  text: string;
}

export function parseAddress(field: string, value: unknown, family: Family, example: string): ipaddr.IPv4 | ipaddr.IPv6 {
  if (typeof value !== 'string' || !ipaddr.isValid(value) || value.includes('/')) {
    throw new ConfigError(field, value, `not an IPv${family} address`, `give an address such as ${example}`);
  }
  const parsed = ipaddr.parse(value);
  // ipaddr.js accepts classful shorthand ("172.31.1" = 172.31.0.1): a typo, not an address.
  const shorthand = parsed.kind() === 'ipv4' && !ipaddr.IPv4.isValidFourPartDecimal(value);
  if ((family === 4) !== (parsed.kind() === 'ipv4') || shorthand) {
    throw new ConfigError(field, value, `not an IPv${family} address`, `give an address such as ${example}`);
  }
  return parsed;
}

export function parseCidr(field: string, value: unknown, family: Family, example: string): Cidr {
  if (typeof value !== 'string' || !value.includes('/')) {
    throw new ConfigError(field, value, `not an IPv${family} subnet in CIDR form`, `give a subnet such as ${example}`);
  }
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.parseCIDR(value);
  } catch {
    throw new ConfigError(field, value, `not an IPv${family} subnet in CIDR form`, `give a subnet such as ${example}`);
  }
  const [address, prefixLength] = parsed;
  const kind: Family = address.kind() === 'ipv4' ? 4 : 6;
  if (kind !== family) {
    throw new ConfigError(field, value, `an IPv${kind} subnet where IPv${family} is needed`, `give a subnet such as ${example}`);
  }
  const network = networkAddress(address, prefixLength);
  if (network.toString() !== address.toString()) {
    throw new ConfigError(
      field,
      value,
      'host bits are set',
      `use the network address: ${network.toString()}/${prefixLength}`,
    );
  }
  return { family, address, prefixLength, text: `${network.toString()}/${prefixLength}` };
}

export function networkAddress(address: ipaddr.IPv4 | ipaddr.IPv6, prefixLength: number): ipaddr.IPv4 | ipaddr.IPv6 {
  const bytes = address.toByteArray();
  for (let bit = prefixLength; bit < bytes.length * 8; bit++) {
    const i = Math.floor(bit / 8);
    bytes[i] = bytes[i]! & ~(0x80 >> bit % 8);
  }
  return ipaddr.fromByteArray(bytes);
}

export function cidrOf(address: ipaddr.IPv4 | ipaddr.IPv6, prefixLength: number): Cidr {
  const network = networkAddress(address, prefixLength);
  return {
    family: address.kind() === 'ipv4' ? 4 : 6,
    address: network,
    prefixLength,
    text: `${network.toString()}/${prefixLength}`,
  };
}

export function cidrContains(outer: Cidr, address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  if ((outer.family === 4) !== (address.kind() === 'ipv4')) return false;
  return networkAddress(address, outer.prefixLength).toString() === outer.address.toString();
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const shorter = a.prefixLength <= b.prefixLength ? a : b;
  const longer = shorter === a ? b : a;
  return cidrContains(shorter, longer.address);
}

export function isUniqueLocal(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).range() === 'uniqueLocal';
}

export function isPrivateIpv4(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  return address.kind() === 'ipv4' && (address as ipaddr.IPv4).range() === 'private';
}

/** The n-th host address of a subnet (n=1: the first usable one). */
export function hostInSubnet(cidr: Cidr, n: number): string {
  const bytes = cidr.address.toByteArray();
  let carry = n;
  for (let i = bytes.length - 1; i >= 0 && carry > 0; i--) {
    const sum = bytes[i]! + carry;
    bytes[i] = sum & 0xff;
    carry = sum >> 8;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

export function normalizeAddress(text: string): string {
  return ipaddr.parse(text.replace(/%.*$/, '')).toString();
}

/** Canonical text of a CIDR given as text ("FDAA:0:0::/64" → "fdaa::/64"); unparsable text is kept. */
export function normalizeCidrText(text: string): string {
  try {
    const [address, length] = ipaddr.parseCIDR(text);
    return `${address.toString()}/${length}`;
  } catch {
    return text;
  }
}
