/**
 * The IPv6-only variant of the topology (`--set topology.ipv4=false`): web-arm has no IPv4 on
 * its uplink; the upstream router provides DNS64 (unbound's dns64 module, forwarding to the
 * lab's DNS) and NAT64 (tayga, its dynamic pool masqueraded to the router's internet IPv4),
 * so IPv4-only names resolve to synthesized AAAA in the NAT64 prefix and are reached over
 * IPv6. The internet side is unchanged. Pure: checks, addresses and renderings.
 */
import ipaddr from 'ipaddr.js';
import { ConfigError } from '../errors.ts';
import { cidrOf, cidrsOverlap, isPrivateIpv4, parseCidr } from './addresses.ts';
import type { LabConfig } from './config.ts';

export const WELL_KNOWN_PREFIX = '64:ff9b::/96';
const RFC8215_LOCAL_USE = cidrOf(ipaddr.parse('64:ff9b:1::'), 48);

export function isV6Only(config: LabConfig): boolean {
  return !config.topology.ipv4;
}

/** topology.* is checked whatever the variant, so a bad prefix fails before anything is created. */
export function checkTopology(config: LabConfig): void {
  const t = config.topology;
  const prefix = parseCidr('topology.nat64Prefix', t.nat64Prefix, 6, '2001:db8:64::/96');
  if (prefix.prefixLength !== 96) {
    throw new ConfigError(
      'topology.nat64Prefix',
      t.nat64Prefix,
      `is a /${prefix.prefixLength}; this lab's NAT64 (tayga) and DNS64 (unbound) embed the IPv4 address in the last 32 bits of a /96`,
      'use a /96 such as 2001:db8:64::/96 (the default) or a /96 of your own prefix',
    );
  }
  if (prefix.text === WELL_KNOWN_PREFIX) {
    // RFC 6052 §3.1: the well-known prefix must not carry non-global IPv4; tayga drops such traffic
    // (seen: ICMPv6 "unreachable route" for 64:ff9b::198.51.100.80).
    const nonGlobal = [config.internet.v4OnlyTarget.ipv4, config.internet.dns.ipv4, config.internet.mx.ipv4].find((a) => ipaddr.parse(a).range() !== 'unicast');
    if (nonGlobal) {
      throw new ConfigError(
        'topology.nat64Prefix',
        t.nat64Prefix,
        `is the well-known prefix, which must not carry the non-global IPv4 ${nonGlobal} of the lab's internet (RFC 6052 §3.1; tayga drops it)`,
        'use a network-specific /96 of the operator\'s space such as 2001:db8:64::/96, the default',
      );
    }
  }
  if (cidrsOverlap(prefix, RFC8215_LOCAL_USE)) {
    throw new ConfigError('topology.nat64Prefix', t.nat64Prefix, 'lies in 64:ff9b:1::/48 (RFC 8215), which tayga 0.9.2 refuses as reserved', 'use a network-specific /96 of the operator\'s space such as 2001:db8:64::/96, the default');
  }
  const hostNet = cidrOf(ipaddr.parse(config.webArm.ipv6.address), config.webArm.ipv6.prefixLength);
  const internet6 = cidrFromInterface(config.upstream.internetIpv6);
  for (const [what, net] of [
    ["web-arm's /64", hostNet],
    ['the internet segment', internet6],
  ] as const) {
    if (cidrsOverlap(prefix, net)) {
      throw new ConfigError('topology.nat64Prefix', t.nat64Prefix, `overlaps ${what} ${net.text}`, 'use a prefix of its own, e.g. 2001:db8:64::/96');
    }
  }
  const pool = parseCidr('topology.nat64Pool', t.nat64Pool, 4, '192.168.255.0/24');
  if (!isPrivateIpv4(pool.address) || pool.prefixLength < 16 || pool.prefixLength > 28) {
    throw new ConfigError('topology.nat64Pool', t.nat64Pool, 'is not a private IPv4 /16–/28', 'use a private pool the router masquerades, e.g. 192.168.255.0/24');
  }
  for (const [what, text] of [
    ['the internet segment', config.upstream.internetIpv4],
    ["web-arm's default podman network", config.webArm.podman.defaultNetworkSubnet],
  ] as const) {
    const other = text.includes('/') ? cidrFromInterface(text) : undefined;
    if (other && cidrsOverlap(pool, other)) {
      throw new ConfigError('topology.nat64Pool', t.nat64Pool, `overlaps ${what} ${other.text}`, 'use another private pool, e.g. 192.168.255.0/24');
    }
  }
}

function cidrFromInterface(text: string) {
  const [address, length] = ipaddr.parseCIDR(text);
  return cidrOf(address, length);
}

/** Where web-arm's DNS64 resolver listens: the router's address on the internet segment. */
export function dns64Address(config: LabConfig): string {
  return config.upstream.internetIpv6.split('/')[0]!;
}

/** The IPv4 address an IPv4-only target sees for NAT64 traffic: the router's internet address. */
export function nat64PublicIpv4(config: LabConfig): string {
  return config.upstream.internetIpv4.split('/')[0]!;
}

/** The IPv6 address DNS64 synthesizes for an IPv4 address (RFC 6052, /96). */
export function synthesize(nat64Prefix: string, ipv4: string): string {
  const [prefix] = ipaddr.parseCIDR(nat64Prefix);
  const bytes = prefix.toByteArray();
  ipaddr.parse(ipv4).toByteArray().forEach((b, i) => (bytes[12 + i] = b));
  return ipaddr.fromByteArray(bytes).toString();
}

/** The NAT64's own addresses: the first of its pool, and one in the NAT64 prefix's neighbour space. */
export function nat64Addresses(config: LabConfig): { tun: string; ipv4: string; ipv6: string } {
  const [pool] = ipaddr.parseCIDR(config.topology.nat64Pool);
  const v4 = pool.toByteArray();
  v4[3] = v4[3]! + 1;
  // tayga needs an IPv6 address of its own when its IPv4 address is private (RFC 6052 forbids
  // embedding private addresses in the well-known prefix): one in the router's internet /64.
  const [inet] = ipaddr.parseCIDR(config.upstream.internetIpv6);
  const v6 = inet.toByteArray();
  v6[14] = 0x64;
  v6[15] = 0x64;
  return { tun: 'nat64', ipv4: ipaddr.fromByteArray(v4).toString(), ipv6: ipaddr.fromByteArray(v6).toString() };
}

export const TAYGA_CONF = '/etc/v6lab/tayga.conf';
export const UNBOUND_CONF = '/etc/v6lab/unbound-dns64.conf';

export function renderTaygaConf(config: LabConfig): string {
  const a = nat64Addresses(config);
  return [
    '# Generated by v6lab: the upstream router\'s NAT64',
    `tun-device ${a.tun}`,
    `ipv4-addr ${a.ipv4}`,
    `ipv6-addr ${a.ipv6}`,
    `prefix ${config.topology.nat64Prefix}`,
    `dynamic-pool ${config.topology.nat64Pool}`,
    'data-dir /var/lib/tayga',
    '',
  ].join('\n');
}

export function renderUnboundDns64Conf(config: LabConfig): string {
  const dns = config.internet.dns;
  return [
    '# Generated by v6lab: the upstream router\'s DNS64 resolver',
    'server:',
    `  interface: ${dns64Address(config)}`,
    '  port: 53',
    '  do-ip4: yes',
    '  do-ip6: yes',
    '  access-control: ::/0 allow',
    '  access-control: 0.0.0.0/0 allow',
    '  username: ""',
    '  chroot: ""',
    '  directory: "/etc/v6lab"',
    '  pidfile: "/run/v6lab-unbound.pid"',
    '  use-syslog: no',
    '  logfile: "/var/log/v6lab/unbound.log"',
    '  verbosity: 1',
    '  log-queries: yes',
    '  module-config: "dns64 iterator"',
    `  dns64-prefix: ${config.topology.nat64Prefix}`,
    '  do-not-query-localhost: no',
    '  qname-minimisation: no',
    '  cache-max-ttl: 5',
    // RFC 7050 discovery of the prefix (clatd asks for ipv4only.arpa when not told the prefix).
    '  local-zone: "ipv4only.arpa." static',
    '  local-data: "ipv4only.arpa. A 192.0.0.170"',
    '  local-data: "ipv4only.arpa. A 192.0.0.171"',
    `  local-data: "ipv4only.arpa. AAAA ${synthesize(config.topology.nat64Prefix, '192.0.0.170')}"`,
    `  local-data: "ipv4only.arpa. AAAA ${synthesize(config.topology.nat64Prefix, '192.0.0.171')}"`,
    'forward-zone:',
    '  name: "."',
    `  forward-addr: ${dns.ipv6}`,
    '',
  ].join('\n');
}

/**
 * The shell script run inside the router container (as root, all its namespaces) that brings
 * up NAT64 and DNS64. Idempotent: each daemon is started only when not running.
 */
export function renderRouterXlatScript(config: LabConfig, bridge: string): string {
  const a = nat64Addresses(config);
  const t = config.topology;
  return [
    'set -eu',
    'mkdir -p /etc/v6lab /var/lib/tayga /var/log/v6lab /dev/net',
    // The container has no /dev/net/tun; the lab (root outside) makes the node, runc's device rules allow 10:200.
    '[ -c /dev/net/tun ] || mknod -m 0666 /dev/net/tun c 10 200',
    `ip link show ${a.tun} >/dev/null 2>&1 || tayga --config ${TAYGA_CONF} --mktun`,
    `ip link set ${a.tun} up`,
    `ip -4 route replace ${t.nat64Pool} dev ${a.tun}`,
    `ip -6 route replace ${t.nat64Prefix} dev ${a.tun}`,
    `ip -6 route replace ${a.ipv6}/128 dev ${a.tun}`,
    `pgrep -x tayga >/dev/null || tayga --config ${TAYGA_CONF} --pidfile /run/v6lab-tayga.pid </dev/null >/dev/null 2>&1`,
    // The pool leaves toward the IPv4 internet as the router's own address.
    'nft delete table ip v6lab_nat64 2>/dev/null || true',
    `nft add table ip v6lab_nat64`,
    `nft add chain ip v6lab_nat64 post '{ type nat hook postrouting priority srcnat; policy accept; }'`,
    `nft add rule ip v6lab_nat64 post ip saddr ${t.nat64Pool} oifname ${bridge} counter masquerade`,
    `pgrep -x unbound >/dev/null || unbound -c ${UNBOUND_CONF} </dev/null >/var/log/v6lab/unbound.start.log 2>&1`,
    '',
  ].join('\n');
}

/** web-arm's /etc/resolv.conf: the lab's DNS, or on the v6-only variant the router's DNS64 first. */
export function renderWebArmResolvConf(config: LabConfig, origin: string): string {
  const dns = config.internet.dns;
  if (!isV6Only(config)) return `# web-arm's resolver: the lab's internet DNS${origin}\nnameserver ${dns.ipv6}\nnameserver ${dns.ipv4}\n`;
  return [
    `# web-arm's resolver (IPv6-only host): the upstream router's DNS64${origin}`,
    `nameserver ${dns64Address(config)}`,
    // IPv4-only containers (podman drops IPv6 nameservers for them) ask the lab's DNS over IPv4,
    // which only a CLAT can reach on this host.
    `nameserver ${dns.ipv4}`,
    '',
  ].join('\n');
}
