/**
 * v6egress: an opt-in dual-stack podman bridge network (private IPv4 + ULA IPv6) that
 * netavark masquerades to the host's addresses (NAT66 to the host GUA), created by an
 * idempotent oneshot with the production idiom `exists || create`, forwarding on, and a
 * throwaway probe container attached with --network=v6egress.
 */
import { ConfigError } from '../errors.ts';
import { checkNetworkName, checkPrivateIpv4Subnet, checkProbe, checkUlaSubnet, paramField, rejectUnknownParams } from './params.ts';
import type { LabConfig } from '../topology/config.ts';
import { defineService } from '../units/model.ts';
import { renderSysctlFile } from './baseSystem.ts';
import type { Design, DesignPlan, HostLayout } from './design.ts';
import { networkEnsureUnit } from './networkUnit.ts';
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
  /**
   * With dockerd beside podman: accept podman's bridges in dockerd's DOCKER-USER chain, so the
   * FORWARD policy DROP dockerd sets in iptables' filter table (a table netavark's nftables
   * driver does not use) lets their traffic through. Re-ensured after every docker start.
   */
  acceptPodmanInDockerUser: boolean;
}

export const V6EGRESS_DEFAULTS: V6egressParams = {
  networkName: 'v6egress',
  ipv4Subnet: '10.89.0.0/24',
  ipv6Subnet: 'fdaa:bbcc:ddee::/64',
  probeName: 'v6probe',
  probePort: 8080,
  strictEnsure: false,
  reloadNetworksAfterFirewall: false,
  acceptPodmanInDockerUser: false,
};

const field = paramField;

export function parseV6egressParams(raw: Record<string, unknown>, config: LabConfig): V6egressParams {
  rejectUnknownParams(raw, Object.keys(V6EGRESS_DEFAULTS), 'v6egress');
  const p = { ...V6EGRESS_DEFAULTS, ...raw } as Record<string, unknown>;
  const networkName = checkNetworkName(p.networkName, 'v6egress');
  const v4 = checkPrivateIpv4Subnet(p.ipv4Subnet, config, '10.89.0.0/24');

  const v6 = checkUlaSubnet(p.ipv6Subnet, config, V6EGRESS_DEFAULTS.ipv6Subnet);

  const probe = checkProbe(p.probeName, p.probePort, config);
  for (const flag of ['strictEnsure', 'reloadNetworksAfterFirewall', 'acceptPodmanInDockerUser'] as const) {
    if (typeof p[flag] !== 'boolean') {
      throw new ConfigError(field(flag), p[flag], 'is not a boolean', `write --set design.params.${flag}=true or false`);
    }
  }
  return {
    networkName,
    ipv4Subnet: v4.text,
    ipv6Subnet: v6.text,
    ...probe,
    strictEnsure: p.strictEnsure as boolean,
    reloadNetworksAfterFirewall: p.reloadNetworksAfterFirewall as boolean,
    acceptPodmanInDockerUser: checkDockerUserFix(p.acceptPodmanInDockerUser as boolean, config),
  };
}

function checkDockerUserFix(enabled: boolean, config: LabConfig): boolean {
  if (enabled && !dockerdRuns(config)) {
    throw new ConfigError(field('acceptPodmanInDockerUser'), true, "needs dockerd's DOCKER-USER chain, and dockerd runs only on the qemu tier's Debian guest with webArm.docker.enabled", 'use --host qemu, or leave it false');
  }
  return enabled;
}

/** Whether web-arm runs a real dockerd (the qemu tier's Debian guest, docker enabled). */
export function dockerdRuns(config: LabConfig): boolean {
  return config.lab.tier === 'qemu' && config.lab.guest === 'debian' && config.webArm.docker.enabled;
}

/** The DOCKER-USER rules that let podman's bridges through dockerd's FORWARD DROP (IPv4). */
export const DOCKER_USER_RULES: readonly string[] = [
  '-i podman+ -j ACCEPT',
  '-o podman+ -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT',
];

export function dockerUserUnit(): ReturnType<typeof defineService> {
  const ensure = DOCKER_USER_RULES.map((r) => `iptables -w -C DOCKER-USER ${r} 2>/dev/null || iptables -w -I DOCKER-USER ${r}`).join('; ');
  return defineService({
    name: 'podman-docker-user.service',
    description: "Let podman's bridges through dockerd's FORWARD policy DROP (DOCKER-USER accepts)",
    after: ['docker.service'],
    requires: ['docker.service'],
    partOf: ['docker.service'],
    wantedBy: ['multi-user.target', 'docker.service'],
    type: 'oneshot',
    remainAfterExit: true,
    execStart: [`/bin/sh -c '${ensure}'`],
    execStop: DOCKER_USER_RULES.map((r) => `-iptables -w -D DOCKER-USER ${r}`),
  });
}

/**
 * What dockerd beside podman does to this design: with netavark's nftables driver, dockerd's
 * iptables FORWARD policy DROP drops what netavark accepts in its own table (podman issue
 * 24486): IPv4 from podman's bridges (egress, published ports) dies unless DOCKER-USER accepts it.
 */
export function dockerCoexistenceExpectations(p: V6egressParams, config: LabConfig): Record<string, 'fail'> {
  if (!dockerdRuns(config) || config.webArm.podman.firewallDriver !== 'nftables' || p.acceptPodmanInDockerUser) return {};
  return {
    'docker-coexistence': 'fail',
    'egress-v4': 'fail',
    'isolation-default': 'fail',
    'idempotent-reboot': 'fail',
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
      ...(p.acceptPodmanInDockerUser ? [dockerUserUnit()] : []),
      networkEnsureUnit(
        p.networkName,
        `Ensure the ${p.networkName} podman network (dual-stack, NAT66 egress)`,
        [probeUnit],
        p.strictEnsure ? `/bin/sh ${ensureScript}` : `/bin/sh -c '${ensureNetworkCommand(p)}'`,
      ),
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
    expectations: { 'inbound-reachability': 'fail', ...dockerCoexistenceExpectations(p, config) },
  };
}

export const v6egress: Design<V6egressParams> = {
  name: 'v6egress',
  summary: 'dual-stack podman network, ULA masqueraded to the host GUA (NAT66)',
  parseParams: parseV6egressParams,
  plan: planV6egress,
};
