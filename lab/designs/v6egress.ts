/**
 * v6egress: an opt-in dual-stack podman bridge network (private IPv4 + ULA IPv6) that
 * netavark masquerades to the host's addresses (NAT66 to the host GUA), created by an
 * idempotent oneshot with the production idiom `exists || create`, forwarding on, and a
 * throwaway probe container attached with --network=v6egress.
 */
import ipaddr from 'ipaddr.js';
import { ConfigError } from '../errors.ts';
import { cidrOf, cidrsOverlap, isPrivateIpv4, isUniqueLocal, parseCidr } from '../topology/addresses.ts';
import type { LabConfig } from '../topology/config.ts';
import { defineService } from '../units/model.ts';
import { renderSysctlFile } from './baseSystem.ts';
import type { Design, DesignPlan, HostLayout } from './design.ts';
import { ociContainerUnit, ociUnitName, responderCommand } from './ociContainer.ts';

export interface V6egressParams {
  networkName: string;
  ipv4Subnet: string;
  ipv6Subnet: string;
  probeName: string;
  probePort: number;
  /**
   * false: the production idiom `exists || create`, which accepts a drifted network silently.
   * true: the ensure step compares the existing network's subnets with the intended ones and
   * fails loudly on drift, or recreates the network when no container is attached.
   */
  strictEnsure: boolean;
  /**
   * A `podman network reload --all` unit that is PartOf= and After= the firewall, so a
   * firewall restart that flushes the ruleset (and netavark's rules with it) restores them.
   */
  reloadNetworksAfterFirewall: boolean;
}

export const V6EGRESS_DEFAULTS: V6egressParams = {
  networkName: 'v6egress',
  ipv4Subnet: '10.89.0.0/24',
  ipv6Subnet: 'fdaa:bbcc:ddee::/64',
  probeName: 'v6probe',
  probePort: 8080,
  strictEnsure: false,
  reloadNetworksAfterFirewall: false,
};

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const RESERVED_NETWORKS = ['podman', 'host', 'none', 'bridge', 'private', 'slirp4netns', 'pasta'];

function field(name: string): string {
  return `design.params.${name}`;
}

export function parseV6egressParams(raw: Record<string, unknown>, config: LabConfig): V6egressParams {
  const known = Object.keys(V6EGRESS_DEFAULTS);
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) {
      throw new ConfigError(field(key), raw[key], 'is not a parameter of the v6egress design', `use one of: ${known.join(', ')}`);
    }
  }
  const p = { ...V6EGRESS_DEFAULTS, ...raw } as Record<string, unknown>;

  if (typeof p.networkName !== 'string' || !NAME.test(p.networkName) || RESERVED_NETWORKS.includes(p.networkName)) {
    throw new ConfigError(field('networkName'), p.networkName, 'not a usable podman network name', `use letters, digits, "_.-", not one of ${RESERVED_NETWORKS.join(', ')}; e.g. v6egress`);
  }

  const v4 = parseCidr(field('ipv4Subnet'), p.ipv4Subnet, 4, '10.89.0.0/24');
  if (!isPrivateIpv4(v4.address)) {
    throw new ConfigError(field('ipv4Subnet'), p.ipv4Subnet, 'is not a private (RFC 1918) subnet', 'use a private subnet such as 10.89.0.0/24');
  }
  if (v4.prefixLength < 16 || v4.prefixLength > 29) {
    throw new ConfigError(field('ipv4Subnet'), p.ipv4Subnet, 'has a prefix length outside /16–/29', 'use a /24 such as 10.89.0.0/24');
  }
  const defaultNet = parseCidr('webArm.podman.defaultNetworkSubnet', config.webArm.podman.defaultNetworkSubnet, 4, '10.88.0.0/16');
  if (cidrsOverlap(v4, defaultNet)) {
    throw new ConfigError(field('ipv4Subnet'), p.ipv4Subnet, `overlaps the default podman network ${defaultNet.text}`, 'use a subnet outside it, e.g. 10.89.0.0/24');
  }
  for (const [what, address] of [
    ["web-arm's IPv4 address", config.webArm.ipv4.address],
    ["web-arm's IPv4 gateway", config.webArm.ipv4.gateway],
  ] as const) {
    if (cidrsOverlap(v4, cidrOf(ipaddr.parse(address), 32))) {
      throw new ConfigError(field('ipv4Subnet'), p.ipv4Subnet, `contains ${what} ${address}`, 'use a subnet that holds none of the host addresses');
    }
  }

  const v6 = parseCidr(field('ipv6Subnet'), p.ipv6Subnet, 6, 'fdaa:bbcc:ddee::/64');
  const hostNet = cidrOf(ipaddr.parse(config.webArm.ipv6.address), config.webArm.ipv6.prefixLength);
  if (cidrsOverlap(v6, hostNet)) {
    throw new ConfigError(field('ipv6Subnet'), p.ipv6Subnet, `overlaps the host's /${hostNet.prefixLength} ${hostNet.text}`, 'NAT66 needs a ULA that is not routed to the host: use e.g. fdaa:bbcc:ddee::/64');
  }
  if (!isUniqueLocal(v6.address)) {
    throw new ConfigError(field('ipv6Subnet'), p.ipv6Subnet, 'is not a ULA (fc00::/7)', 'the NAT66 design masquerades a unique local prefix: use e.g. fdaa:bbcc:ddee::/64');
  }
  if (v6.prefixLength < 48 || v6.prefixLength > 120) {
    throw new ConfigError(field('ipv6Subnet'), p.ipv6Subnet, 'has a prefix length outside /48–/120', 'use a /64 such as fdaa:bbcc:ddee::/64');
  }

  if (typeof p.probeName !== 'string' || !NAME.test(p.probeName)) {
    throw new ConfigError(field('probeName'), p.probeName, 'not a valid container name', 'use letters, digits, "_.-", e.g. v6probe');
  }
  if (config.webArm.containers.some((c) => c.name === p.probeName)) {
    throw new ConfigError(field('probeName'), p.probeName, 'is already the name of a live container', 'give the probe its own name, e.g. v6probe');
  }
  if (typeof p.probePort !== 'number' || !Number.isInteger(p.probePort) || p.probePort < 1 || p.probePort > 65535) {
    throw new ConfigError(field('probePort'), p.probePort, 'not a TCP port', 'use a number from 1 to 65535, e.g. 8080');
  }
  for (const flag of ['strictEnsure', 'reloadNetworksAfterFirewall'] as const) {
    if (typeof p[flag] !== 'boolean') {
      throw new ConfigError(field(flag), p[flag], 'is not a boolean', `write --set design.params.${flag}=true or false`);
    }
  }
  return {
    networkName: p.networkName,
    ipv4Subnet: v4.text,
    ipv6Subnet: v6.text,
    probeName: p.probeName,
    probePort: p.probePort,
    strictEnsure: p.strictEnsure as boolean,
    reloadNetworksAfterFirewall: p.reloadNetworksAfterFirewall as boolean,
  };
}

export function ensureNetworkCommand(p: V6egressParams): string {
  return `podman network exists ${p.networkName} || podman network create --ipv6 --subnet ${p.ipv4Subnet} --subnet ${p.ipv6Subnet} ${p.networkName}`;
}

/**
 * The strict ensure step: create the network when missing; when it exists, compare its subnets
 * with the intended ones; on drift recreate it if no container is attached, else fail loudly.
 */
export function renderStrictEnsureScript(p: V6egressParams): string {
  // Sorted as `sort` in the script sorts them (C locale: byte order).
  const want = [p.ipv4Subnet, p.ipv6Subnet].sort().join(' ');
  return [
    '#!/bin/sh',
    `# Generated by v6lab: strict ensure of the ${p.networkName} podman network.`,
    'set -eu',
    'export LC_ALL=C',
    `net=${p.networkName}`,
    `want="${want}"`,
    'create() {',
    `  podman network create --ipv6 --subnet ${p.ipv4Subnet} --subnet ${p.ipv6Subnet} "$net"`,
    '}',
    'if ! podman network exists "$net"; then create; exit 0; fi',
    `have=$(podman network inspect "$net" --format '{{range .Subnets}}{{.Subnet}} {{end}}' | xargs -n1 | sort | xargs)`,
    'if [ "$have" = "$want" ]; then exit 0; fi',
    'attached=$(podman ps -a -q --filter "network=$net")',
    'if [ -n "$attached" ]; then',
    '  echo "DRIFT: podman network $net has subnets [$have], intended [$want]; containers are attached ($(echo $attached)): not recreating" >&2',
    '  exit 1',
    'fi',
    'echo "DRIFT: podman network $net has subnets [$have], intended [$want]: recreating it (no container attached)" >&2',
    'podman network rm "$net"',
    'create',
    '',
  ].join('\n');
}

export function networkUnitName(p: V6egressParams): string {
  return `${p.networkName}-network.service`;
}

export function planV6egress(p: V6egressParams, config: LabConfig, layout: HostLayout): DesignPlan {
  const networkUnit = networkUnitName(p);
  const probeUnit = ociUnitName(p.probeName);
  const sysctls = { 'net.ipv6.conf.all.forwarding': '1' };
  const ensureScript = `${layout.etc}/${p.networkName}/ensure.sh`;
  const files: Record<string, string> = { 'sysctl.d/60-v6egress.conf': renderSysctlFile(sysctls, 'v6egress: forward for NAT66') };
  if (p.strictEnsure) files[`${p.networkName}/ensure.sh`] = renderStrictEnsureScript(p);
  const reloadHook = defineService({
    name: 'podman-network-reload.service',
    description: 'Restore netavark firewall rules after a firewall (re)start',
    after: ['firewall.service', 'podman.service', networkUnit],
    partOf: ['firewall.service'],
    wantedBy: ['multi-user.target'],
    type: 'oneshot',
    remainAfterExit: true,
    execStart: ['podman network reload --all'],
  });
  return {
    design: 'v6egress',
    params: { ...p },
    files,
    units: [
      ...(p.reloadNetworksAfterFirewall ? [reloadHook] : []),
      defineService({
        name: networkUnit,
        description: `Ensure the ${p.networkName} podman network (dual-stack, NAT66 egress)`,
        wants: ['podman.service'],
        after: ['podman.service', 'systemd-sysctl.service'],
        before: [probeUnit],
        wantedBy: ['multi-user.target'],
        type: 'oneshot',
        remainAfterExit: true,
        execStart: [p.strictEnsure ? `/bin/sh ${ensureScript}` : `/bin/sh -c '${ensureNetworkCommand(p)}'`],
      }),
      ociContainerUnit({
        name: p.probeName,
        image: layout.image,
        network: p.networkName,
        publish: [],
        command: responderCommand(p.probeName, [], [], [p.probePort]),
        dependsOn: [networkUnit],
      }),
    ],
    probe: { name: p.probeName, network: p.networkName, listenPort: p.probePort },
    networks: [{ name: p.networkName, subnets: [p.ipv4Subnet, p.ipv6Subnet], ipv6: true }],
    sysctls,
    egressSource: 'host',
    // NAT66 is egress-only by design: nothing on the internet reaches the container.
    expectations: { 'inbound-reachability': 'fail' },
  };
}

export const v6egress: Design<V6egressParams> = {
  name: 'v6egress',
  summary: 'dual-stack podman network, ULA masqueraded to the host GUA (NAT66)',
  parseParams: parseV6egressParams,
  plan: planV6egress,
};
