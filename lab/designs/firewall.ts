/**
 * web-arm's host firewall as nixos-25.11's `networking.firewall` (iptables backend) writes it for
 * web-arm's settings: the firewall-start, firewall-reload and firewall-stop scripts and
 * firewall.service, with NixOS's option logic resolved (no Nix left, only the commands NixOS's
 * scripts run for these settings, in NixOS's order). Pure.
 *
 * Mirrors nixpkgs nixos/modules/services/networking/firewall-iptables.nix (commit
 * 0d953321a18cf484b637b9932f8b3040bbfb11e3) and helpers.nix (ip46tables), with the defaults of
 * firewall.nix as nixos-25.11 has them (logRefusedConnections on: nixpkgs master turned it off
 * in April 2026, PR #507761, after 25.11 branched; checkReversePath on; rejectPackets,
 * logRefusedPackets, logReversePathDrops off; logRefusedUnicastsOnly on; pingLimit none;
 * `lo` always trusted), and the firewall rule nixpkgs' podman module adds
 * (virtualisation/podman/default.nix: 53/udp on the default network's interface, podman0, only
 * when its dns_enabled is set; NixOS's default network has it off).
 *
 * Differences from NixOS, kept on purpose (README lists them): the scripts live under the
 * layout's etc (not the Nix store) and run with /bin/sh (NixOS: bash with -e; the scripts use
 * nothing bash-only); the unit carries a hash of the scripts (NixOS's unit changes with their
 * store paths) so that a switch sees a change; no Environment=PATH (the tier's PATH has
 * iptables).
 */
import { createHash } from 'node:crypto';
import { defineService, type UnitSpec } from '../units/model.ts';

/** The nixpkgs files and commits this rendering mirrors (named by the golden tests and README). */
export const NIXPKGS_FIREWALL_SOURCES = {
  'nixos/modules/services/networking/firewall-iptables.nix': '0d953321a18cf484b637b9932f8b3040bbfb11e3',
  'nixos/modules/services/networking/helpers.nix': '14fd976016aee7e8a52f362b145a16947e111515',
  'nixos/modules/services/networking/firewall.nix': 'nixos-25.11 defaults (logRefusedConnections = true; read at 0192bb844360b5b42ebaf7f575f84d79910a5927, which is after PR #507761)',
} as const;

/** web-arm's firewall settings: the `networking.firewall` options production sets (the rest are NixOS's defaults). */
export interface FirewallPolicy {
  allowedTcpPorts: number[];
  allowedUdpPorts: number[];
  allowPing: boolean;
  /**
   * `networking.firewall.interfaces."podman+".allowedUDPPorts = [ 53 ]`: what a host adds itself so
   * that containers on podman networks other than the default reach aardvark-dns (the fix of
   * nixpkgs#272480). Not something nixpkgs' podman module does (that opens podman0 only, and only
   * with dns_enabled on the default network): off unless the host's configuration says so.
   */
  allowDnsOnPodmanBridges: boolean;
  /** networking.firewall.logRefusedConnections (nixos-25.11 default: true): LOG refused TCP SYNs, "refused connection: ". */
  logRefusedConnections: boolean;
  /** networking.firewall.checkReversePath (default true = strict): the rpfilter chain in mangle PREROUTING. */
  checkReversePath: boolean | 'loose';
}

/** What nixpkgs' podman module contributes to the firewall (virtualisation.podman.defaultNetwork.settings). */
export interface PodmanDefaultNetwork {
  /** dns_enabled of the default network (NixOS: false). */
  dnsEnabled: boolean;
  /** Its bridge (network_interface; NixOS: podman0). */
  networkInterface: string;
}

/** NixOS's default network: DNS off, bridge podman0 (nixpkgs virtualisation/podman/default.nix). */
export const NIXOS_PODMAN_DEFAULT_NETWORK: PodmanDefaultNetwork = { dnsEnabled: false, networkInterface: 'podman0' };

/** Ports opened on one interface (networking.firewall.interfaces.<name>), or on all ("default"). */
export interface InterfacePorts {
  allowedTcpPorts: number[];
  allowedUdpPorts: number[];
}

/**
 * networking.firewall.allInterfaces for web-arm: "default" (every interface) plus the per-interface
 * ports, keyed and sorted as Nix sorts attribute names; port lists sorted and deduplicated as
 * NixOS's canonicalizePortList does.
 */
export function firewallInterfaces(policy: FirewallPolicy, podman: PodmanDefaultNetwork = NIXOS_PODMAN_DEFAULT_NETWORK): Array<[string, InterfacePorts]> {
  const canonical = (ports: number[]) => [...new Set(ports)].sort((a, b) => a - b);
  const all = new Map<string, InterfacePorts>([['default', { allowedTcpPorts: policy.allowedTcpPorts, allowedUdpPorts: policy.allowedUdpPorts }]]);
  const add = (iface: string, udp: number[]) => {
    const have = all.get(iface) ?? { allowedTcpPorts: [], allowedUdpPorts: [] };
    all.set(iface, { allowedTcpPorts: have.allowedTcpPorts, allowedUdpPorts: [...have.allowedUdpPorts, ...udp] });
  };
  if (podman.dnsEnabled) add(podman.networkInterface, [53]);
  if (policy.allowDnsOnPodmanBridges) add('podman+', [53]);
  return [...all.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([iface, p]) => [iface, { allowedTcpPorts: canonical(p.allowedTcpPorts), allowedUdpPorts: canonical(p.allowedUdpPorts) }]);
}

const HELPERS = [
  '# Helper command to manipulate both the IPv4 and IPv6 tables.',
  'ip46tables() {',
  '  iptables -w "$@"',
  '  ip6tables -w "$@"',
  '}',
];

function script(name: string, body: string[]): string {
  return ['#!/bin/sh -e', `# Generated by v6lab: nixos-25.11's ${name} (networking.firewall, iptables backend) for web-arm.`, ...HELPERS, '', ...body, ''].join('\n');
}

function rpfilterOn(policy: FirewallPolicy): boolean {
  return policy.checkReversePath !== false;
}

/** firewall-start: builds nixos-fw and its chains, the rpfilter chain, and hooks them in. */
export function renderFirewallStart(policy: FirewallPolicy, podman: PodmanDefaultNetwork = NIXOS_PODMAN_DEFAULT_NETWORK): string {
  const interfaces = firewallInterfaces(policy, podman);
  const onIface = (iface: string) => (iface === 'default' ? '' : ` -i ${iface}`);
  const body = [
    '# Flush the old firewall rules.',
    'ip46tables -D INPUT -j nixos-fw 2> /dev/null || true',
    'for chain in nixos-fw nixos-fw-accept nixos-fw-log-refuse nixos-fw-refuse; do',
    '  ip46tables -F "$chain" 2> /dev/null || true',
    '  ip46tables -X "$chain" 2> /dev/null || true',
    'done',
    '',
    '# The "nixos-fw-accept" chain just accepts packets.',
    'ip46tables -N nixos-fw-accept',
    'ip46tables -A nixos-fw-accept -j ACCEPT',
    '',
    '# The "nixos-fw-refuse" chain rejects or drops packets.',
    'ip46tables -N nixos-fw-refuse',
    'ip46tables -A nixos-fw-refuse -j DROP',
    '',
    '# The "nixos-fw-log-refuse" chain performs logging, then jumps to the "nixos-fw-refuse" chain.',
    'ip46tables -N nixos-fw-log-refuse',
    ...(policy.logRefusedConnections ? ['ip46tables -A nixos-fw-log-refuse -p tcp --syn -j LOG --log-level info --log-prefix "refused connection: "'] : []),
    'ip46tables -A nixos-fw-log-refuse -m pkttype ! --pkt-type unicast -j nixos-fw-refuse',
    'ip46tables -A nixos-fw-log-refuse -j nixos-fw-refuse',
    '',
    '# The "nixos-fw" chain does the actual work.',
    'ip46tables -N nixos-fw',
    '',
    '# Clean up rpfilter rules',
    'ip46tables -t mangle -D PREROUTING -j nixos-fw-rpfilter 2> /dev/null || true',
    'ip46tables -t mangle -F nixos-fw-rpfilter 2> /dev/null || true',
    'ip46tables -t mangle -X nixos-fw-rpfilter 2> /dev/null || true',
    ...(rpfilterOn(policy)
      ? [
          '',
          '# Perform a reverse-path test to refuse spoofers',
          'ip46tables -t mangle -N nixos-fw-rpfilter 2> /dev/null || true',
          `ip46tables -t mangle -A nixos-fw-rpfilter -m rpfilter --validmark${policy.checkReversePath === 'loose' ? ' --loose' : ''} -j RETURN`,
          '# Allows this host to act as a DHCP4 client without first having to use APIPA',
          'iptables -t mangle -A nixos-fw-rpfilter -p udp --sport 67 --dport 68 -j RETURN',
          '# Allows this host to act as a DHCPv4 server',
          'iptables -t mangle -A nixos-fw-rpfilter -s 0.0.0.0 -d 255.255.255.255 -p udp --sport 68 --dport 67 -j RETURN',
          'ip46tables -t mangle -A nixos-fw-rpfilter -j DROP',
          'ip46tables -t mangle -A PREROUTING -j nixos-fw-rpfilter',
        ]
      : []),
    '',
    '# Accept all traffic on the trusted interfaces.',
    'ip46tables -A nixos-fw -i lo -j nixos-fw-accept',
    '',
    '# Allow DHCP server requests from systemd virtual network interfaces.',
    '# ve-+: nspawn --network-veth',
    'ip46tables -A nixos-fw -i ve-+ -p udp --dport 67 -j nixos-fw-accept',
    '# vz-+: nspawn --network-zone',
    'ip46tables -A nixos-fw -i vz-+ -p udp --dport 67 -j nixos-fw-accept',
    '# vt-+: vmspawn TAP',
    'ip46tables -A nixos-fw -i vt-+ -p udp --dport 67 -j nixos-fw-accept',
    '# ns-+: nsresourced network namespaces.',
    'ip46tables -A nixos-fw -i ns-+ -p udp --dport 67 -j nixos-fw-accept',
    '',
    '# Accept packets from established or related connections.',
    'ip46tables -A nixos-fw -m conntrack --ctstate ESTABLISHED,RELATED -j nixos-fw-accept',
    '',
    '# Accept connections to the allowed TCP ports.',
    ...interfaces.flatMap(([iface, p]) => p.allowedTcpPorts.map((port) => `ip46tables -A nixos-fw -p tcp --dport ${port} -j nixos-fw-accept${onIface(iface)}`)),
    '',
    '# Accept packets on the allowed UDP ports.',
    ...interfaces.flatMap(([iface, p]) => p.allowedUdpPorts.map((port) => `ip46tables -A nixos-fw -p udp --dport ${port} -j nixos-fw-accept${onIface(iface)}`)),
    '',
    '# Optionally respond to ICMPv4 pings.',
    ...(policy.allowPing ? ['iptables -w -A nixos-fw -p icmp --icmp-type echo-request -j nixos-fw-accept'] : []),
    '',
    '# Accept all ICMPv6 messages except redirects and node information queries (type 139).',
    '# See RFC 4890, section 4.4.',
    'ip6tables -A nixos-fw -p icmpv6 --icmpv6-type redirect -j DROP',
    'ip6tables -A nixos-fw -p icmpv6 --icmpv6-type 139 -j DROP',
    'ip6tables -A nixos-fw -p icmpv6 -j nixos-fw-accept',
    '',
    '# Allow this host to act as a DHCPv6 client',
    'ip6tables -A nixos-fw -d fe80::/64 -p udp --dport 546 -j nixos-fw-accept',
    '',
    '# Reject/drop everything else.',
    'ip46tables -A nixos-fw -j nixos-fw-log-refuse',
    '',
    '# Enable the firewall.',
    'ip46tables -A INPUT -j nixos-fw',
  ];
  return script('firewall-start', body);
}

/** firewall-stop: unhooks the chains (and the drop chain a failed reload left); the chains themselves stay. */
export function renderFirewallStop(policy: FirewallPolicy): string {
  return script('firewall-stop', [
    '# Clean up in case reload fails',
    'ip46tables -D INPUT -j nixos-drop 2>/dev/null || true',
    '',
    '# Clean up after added ruleset',
    'ip46tables -D INPUT -j nixos-fw 2>/dev/null || true',
    ...(rpfilterOn(policy) ? ['', 'ip46tables -t mangle -D PREROUTING -j nixos-fw-rpfilter 2>/dev/null || true'] : []),
  ]);
}

/** firewall-reload: drops all input while firewall-start runs again; if that fails, firewall-stop and fail. */
export function renderFirewallReload(startScript: string, stopScript: string): string {
  return script('firewall-reload', [
    '# Create a unique drop rule',
    'ip46tables -D INPUT -j nixos-drop 2>/dev/null || true',
    'ip46tables -F nixos-drop 2>/dev/null || true',
    'ip46tables -X nixos-drop 2>/dev/null || true',
    'ip46tables -N nixos-drop',
    'ip46tables -A nixos-drop -j DROP',
    '',
    "# Don't allow traffic to leak out until the script has completed",
    'ip46tables -A INPUT -j nixos-drop',
    '',
    `if ${startScript}; then`,
    '  ip46tables -D INPUT -j nixos-drop 2>/dev/null || true',
    'else',
    '  echo "Failed to reload firewall... Stopping"',
    `  ${stopScript}`,
    '  exit 1',
    'fi',
  ]);
}

/** Where the scripts go, relative to the layout's etc. */
export const FIREWALL_SCRIPTS = {
  start: 'firewall/firewall-start.sh',
  reload: 'firewall/firewall-reload.sh',
  stop: 'firewall/firewall-stop.sh',
} as const;

export interface FirewallRendering {
  /** The three scripts, relative to the layout's etc. */
  files: Record<string, string>;
  unit: UnitSpec;
}

/**
 * The firewall as NixOS installs it: the scripts and firewall.service (wanted by sysinit.target,
 * no default dependencies, before network-pre.target, reloaded, not restarted, when a switch
 * changes it: X-ReloadIfChanged).
 */
export function renderNixosFirewall(policy: FirewallPolicy, etc: string, podman: PodmanDefaultNetwork = NIXOS_PODMAN_DEFAULT_NETWORK): FirewallRendering {
  const path = (rel: string) => `${etc}/${rel}`;
  const start = renderFirewallStart(policy, podman);
  const stop = renderFirewallStop(policy);
  const reload = renderFirewallReload(path(FIREWALL_SCRIPTS.start), path(FIREWALL_SCRIPTS.stop));
  const files: Record<string, string> = { [FIREWALL_SCRIPTS.start]: start, [FIREWALL_SCRIPTS.reload]: reload, [FIREWALL_SCRIPTS.stop]: stop };
  const hash = createHash('sha256');
  for (const rel of Object.keys(files).sort()) hash.update(rel).update(files[rel]!);
  const unit = defineService({
    name: 'firewall.service',
    description: 'Firewall',
    wants: ['network-pre.target'],
    after: ['systemd-modules-load.service'],
    before: ['network-pre.target', 'shutdown.target'],
    conflicts: ['shutdown.target'],
    wantedBy: ['sysinit.target'],
    options: { defaultDependencies: false, conditionCapability: 'CAP_NET_ADMIN', reloadIfChanged: true },
    type: 'oneshot',
    remainAfterExit: true,
    // NixOS's unit changes with the scripts' store paths; here their hash does it.
    environment: { V6LAB_FIREWALL_HASH: hash.digest('hex').slice(0, 12) },
    execStart: [`@${path(FIREWALL_SCRIPTS.start)} firewall-start`],
    execReload: [`@${path(FIREWALL_SCRIPTS.reload)} firewall-reload`],
    execStop: [`@${path(FIREWALL_SCRIPTS.stop)} firewall-stop`],
  });
  return { files, unit };
}
