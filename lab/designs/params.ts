/**
 * Parameter checks every design shares (names, the private IPv4 subnet, the probe). Each
 * failure is a ConfigError naming `design.params.<field>` and the fix. Pure.
 */
import ipaddr from 'ipaddr.js';
import { ConfigError } from '../errors.ts';
import { cidrContains, cidrOf, cidrsOverlap, isPrivateIpv4, isUniqueLocal, parseCidr, type Cidr } from '../topology/addresses.ts';
import type { LabConfig } from '../topology/config.ts';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const RESERVED_NETWORKS = ['podman', 'host', 'none', 'bridge', 'private', 'slirp4netns', 'pasta'];

export function paramField(name: string): string {
  return `design.params.${name}`;
}

export function rejectUnknownParams(raw: Record<string, unknown>, known: string[], design: string): void {
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) {
      throw new ConfigError(paramField(key), raw[key], `is not a parameter of the ${design} design`, `use one of: ${known.join(', ')}`);
    }
  }
}

export function checkNetworkName(value: unknown, example: string): string {
  if (typeof value !== 'string' || !NAME.test(value) || RESERVED_NETWORKS.includes(value)) {
    throw new ConfigError(paramField('networkName'), value, 'not a usable podman network name', `use letters, digits, "_.-", not one of ${RESERVED_NETWORKS.join(', ')}; e.g. ${example}`);
  }
  return value;
}

/** A private IPv4 subnet for a container network, clear of the default network and the host's addresses. */
export function checkPrivateIpv4Subnet(value: unknown, config: LabConfig, example: string): Cidr {
  const field = paramField('ipv4Subnet');
  const v4 = parseCidr(field, value, 4, example);
  if (!isPrivateIpv4(v4.address)) {
    throw new ConfigError(field, value, 'is not a private (RFC 1918) subnet', `use a private subnet such as ${example}`);
  }
  if (v4.prefixLength < 16 || v4.prefixLength > 29) {
    throw new ConfigError(field, value, 'has a prefix length outside /16–/29', `use a /24 such as ${example}`);
  }
  const defaultNet = parseCidr('webArm.podman.defaultNetworkSubnet', config.webArm.podman.defaultNetworkSubnet, 4, '10.88.0.0/16');
  if (cidrsOverlap(v4, defaultNet)) {
    throw new ConfigError(field, value, `overlaps the default podman network ${defaultNet.text}`, `use a subnet outside it, e.g. ${example}`);
  }
  for (const [what, address] of [
    ["web-arm's IPv4 address", config.webArm.ipv4.address],
    ["web-arm's IPv4 gateway", config.webArm.ipv4.gateway],
  ] as const) {
    if (cidrsOverlap(v4, cidrOf(ipaddr.parse(address), 32))) {
      throw new ConfigError(field, value, `contains ${what} ${address}`, 'use a subnet that holds none of the host addresses');
    }
  }
  return v4;
}

export function checkProbe(name: unknown, port: unknown, config: LabConfig): { probeName: string; probePort: number } {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new ConfigError(paramField('probeName'), name, 'not a valid container name', 'use letters, digits, "_.-", e.g. v6probe');
  }
  if (config.webArm.containers.some((c) => c.name === name)) {
    throw new ConfigError(paramField('probeName'), name, 'is already the name of a live container', 'give the probe its own name, e.g. v6probe');
  }
  return { probeName: name, probePort: checkPort('probePort', port, 8080) };
}

/** A design parameter that is a TCP port (1–65535); the error names the parameter and an example. */
export function checkPort(param: string, value: unknown, example: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new ConfigError(paramField(param), value, 'not a TCP port', `use a number from 1 to 65535, e.g. ${example}`);
  }
  return value;
}

/**
 * A GUA sub-prefix carved from web-arm's own on-link prefix (routed designs): inside the host
 * /64, longer than it, not holding the host address, /65–/120.
 */
export function checkHostSubPrefix(value: unknown, config: LabConfig, example: string): Cidr {
  const field = paramField('ipv6Subnet');
  const v6 = parseCidr(field, value, 6, example);
  const hostAddress = ipaddr.parse(config.webArm.ipv6.address);
  const hostNet = cidrOf(hostAddress, config.webArm.ipv6.prefixLength);
  if (!cidrContains(hostNet, v6.address) || v6.prefixLength <= hostNet.prefixLength) {
    throw new ConfigError(field, value, `is not a sub-prefix of the host's ${hostNet.text}`, `carve it from the host /64, e.g. ${example}`);
  }
  if (cidrContains(v6, hostAddress)) {
    throw new ConfigError(field, value, `contains the host address ${config.webArm.ipv6.address}`, `use a sub-prefix away from it, e.g. ${example}`);
  }
  if (v6.prefixLength < 65 || v6.prefixLength > 120) {
    throw new ConfigError(field, value, 'has a prefix length outside /65–/120', `use a /80 such as ${example}`);
  }
  return v6;
}

/** A ULA prefix for a NAT66 network, clear of the host's /64. */
export function checkUlaSubnet(value: unknown, config: LabConfig, example: string): Cidr {
  const field = paramField('ipv6Subnet');
  const v6 = parseCidr(field, value, 6, example);
  const hostNet = cidrOf(ipaddr.parse(config.webArm.ipv6.address), config.webArm.ipv6.prefixLength);
  if (cidrsOverlap(v6, hostNet)) {
    throw new ConfigError(field, value, `overlaps the host's /${hostNet.prefixLength} ${hostNet.text}`, `NAT66 needs a ULA that is not routed to the host: use e.g. ${example}`);
  }
  if (!isUniqueLocal(v6.address)) {
    throw new ConfigError(field, value, 'is not a ULA (fc00::/7)', `the NAT66 design masquerades a unique local prefix: use e.g. ${example}`);
  }
  if (v6.prefixLength < 48 || v6.prefixLength > 120) {
    throw new ConfigError(field, value, 'has a prefix length outside /48–/120', `use a /64 such as ${example}`);
  }
  return v6;
}
