/**
 * routed-subprefix and routed-subprefix-ndp: a podman network on a GUA sub-prefix carved from
 * web-arm's own /64, forwarded without IPv6 NAT, so containers egress with their own GUA.
 *
 * Mechanism, from real runs with podman 4.3 / netavark 1.4:
 * - `podman network create --subnet 2a01:…:1::/80` is refused ("subnet … is already used on
 *   the host") because the host's on-link /64 on enp1s0 covers it. The network is therefore
 *   declared as a definition file in podman's network config directory (as NixOS would with
 *   environment.etc."containers/networks/<name>.json"); podman and netavark use it as is.
 * - netavark has no switch to turn masquerading off for a bridge network: a oneshot inserts
 *   `ip6tables -t nat -I POSTROUTING 1 -s <sub-prefix> -j ACCEPT` ahead of netavark's
 *   masquerade, so IPv6 from the sub-prefix leaves un-NATed (IPv4 stays masqueraded).
 *
 * On Hetzner's on-link /64 the router resolves every address by neighbour discovery; the
 * -ndp variant answers those solicitations for the probe's address with proxy_ndp and a
 * per-address proxy entry on the uplink (ndppd is the alternative the write-ups use).
 */
import { mailCaveatExpectations } from './mailCaveat.ts';
import { containerDnsExpectations } from './containerDns.ts';
import ipaddr from 'ipaddr.js';
import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.ts';
import { cidrOf, hostInSubnet } from '../topology/addresses.ts';
import { checkHostSubPrefix, checkNetworkName, checkPrivateIpv4Subnet, checkProbe, paramField, rejectUnknownParams } from './params.ts';
import type { LabConfig } from '../topology/config.ts';
import { defineService } from '../units/model.ts';
import { renderSysctlFile } from './baseSystem.ts';
import { checkDockerUserFix, dockerCoexistenceExpectations, dockerUserUnits } from './dockerEngine.ts';
import type { Design, DesignPlan, HostLayout } from './design.ts';
import { networkEnsureUnit } from './networkUnit.ts';
import { ociContainerUnit, ociUnitName, responderCommand } from './ociContainer.ts';

export interface RoutedParams {
  networkName: string;
  ipv4Subnet: string;
  ipv6Subnet: string;
  probeName: string;
  probePort: number;
  ndpProxy: 'none' | 'proxy_ndp';
  /** DOCKER-USER accepts for podman's bridges beside dockerd (dockerEngine.ts); default on where dockerd runs. */
  acceptPodmanInDockerUser: boolean;
}

export const ROUTED_DEFAULTS: Omit<RoutedParams, 'ndpProxy' | 'acceptPodmanInDockerUser'> = {
  networkName: 'routed6',
  ipv4Subnet: '10.90.0.0/24',
  ipv6Subnet: '2a01:4f8:c012:43b:1::/80',
  probeName: 'v6probe',
  probePort: 8080,
};

const field = paramField;

export function parseRoutedParams(raw: Record<string, unknown>, config: LabConfig, ndpProxy: RoutedParams['ndpProxy']): RoutedParams {
  rejectUnknownParams(raw, [...Object.keys(ROUTED_DEFAULTS), 'ndpProxy', 'acceptPodmanInDockerUser'], 'routed sub-prefix');
  const p = { ...ROUTED_DEFAULTS, ndpProxy, ...raw } as Record<string, unknown>;
  const networkName = checkNetworkName(p.networkName, 'routed6');
  if (p.ndpProxy !== 'none' && p.ndpProxy !== 'proxy_ndp') {
    throw new ConfigError(field('ndpProxy'), p.ndpProxy, 'is not an NDP proxy this lab runs', 'use proxy_ndp (per-address proxy entries) or none');
  }
  const v4 = checkPrivateIpv4Subnet(p.ipv4Subnet, config, '10.90.0.0/24');
  const v6 = checkHostSubPrefix(p.ipv6Subnet, config, ROUTED_DEFAULTS.ipv6Subnet);
  const probe = checkProbe(p.probeName, p.probePort, config);
  return { networkName, ipv4Subnet: v4.text, ipv6Subnet: v6.text, ...probe, ndpProxy: p.ndpProxy, acceptPodmanInDockerUser: checkDockerUserFix(raw.acceptPodmanInDockerUser, config) };
}

/** The probe's fixed address: host ::100 of the sub-prefix (known in advance for the proxy entry). */
export function probeAddress(p: RoutedParams): string {
  const [address, length] = ipaddr.parseCIDR(p.ipv6Subnet);
  return hostInSubnet(cidrOf(address, length), 0x100);
}

/** podman's network definition for the sub-prefix (what `podman network create` would write). */
export function renderNetworkDefinition(p: RoutedParams): string {
  const gateway = (subnet: string) => {
    const [address, length] = ipaddr.parseCIDR(subnet);
    return hostInSubnet(cidrOf(address, length), 1);
  };
  const definition = {
    name: p.networkName,
    id: createHash('sha256').update(`v6lab-network-${p.networkName}`).digest('hex'),
    driver: 'bridge',
    // A podman+ name, so the NixOS-like firewall's DNS rule for podman bridges covers it.
    network_interface: `podman-${p.networkName}`.slice(0, 15),
    created: '2026-01-01T00:00:00Z',
    subnets: [p.ipv4Subnet, p.ipv6Subnet].map((subnet) => ({ subnet, gateway: gateway(subnet) })),
    ipv6_enabled: true,
    internal: false,
    dns_enabled: true,
    ipam_options: { driver: 'host-local' },
  };
  return `${JSON.stringify(definition, null, 5)}\n`;
}

export function planRouted(design: string, p: RoutedParams, config: LabConfig, layout: HostLayout): DesignPlan {
  const uplink = config.webArm.uplink;
  const networkUnit = `${p.networkName}-network.service`;
  const noNatUnit = `${p.networkName}-no-nat66.service`;
  const proxyUnit = `${p.networkName}-ndp-proxy.service`;
  const probeUnit = ociUnitName(p.probeName);
  const address = probeAddress(p);
  const sysctls: Record<string, string> = { 'net.ipv6.conf.all.forwarding': '1' };
  if (p.ndpProxy === 'proxy_ndp') sysctls[`net.ipv6.conf.${uplink}.proxy_ndp`] = '1';
  const exempt = `ip6tables -w -t nat -C POSTROUTING -s ${p.ipv6Subnet} -j ACCEPT 2>/dev/null || ip6tables -w -t nat -I POSTROUTING 1 -s ${p.ipv6Subnet} -j ACCEPT`;
  const proxied = p.ndpProxy === 'proxy_ndp';
  const units = [
    ...dockerUserUnits(p.acceptPodmanInDockerUser),
    // `podman network create` refuses a sub-prefix of the host's on-link /64: install the definition.
    networkEnsureUnit(
      p.networkName,
      `Ensure the ${p.networkName} podman network (routed GUA sub-prefix)`,
      [probeUnit],
      `/bin/sh -c 'podman network exists ${p.networkName} || install -D -m 0644 ${layout.etc}/${p.networkName}/network.json ${layout.networkConfigDir}/${p.networkName}.json'`,
    ),
    defineService({
      name: noNatUnit,
      description: `No NAT66 for ${p.ipv6Subnet}: containers keep their own GUA`,
      after: [networkUnit, 'firewall.service'],
      before: [probeUnit],
      partOf: ['firewall.service'],
      wantedBy: ['multi-user.target'],
      type: 'oneshot',
      remainAfterExit: true,
      execStart: [`/bin/sh -c '${exempt}'`],
      execStop: [`-ip6tables -w -t nat -D POSTROUTING -s ${p.ipv6Subnet} -j ACCEPT`],
    }),
    ...(proxied
      ? [
          defineService({
            name: proxyUnit,
            description: `Answer neighbour solicitations for ${address} on ${uplink} (proxy_ndp)`,
            after: ['systemd-sysctl.service', networkUnit],
            before: [probeUnit],
            wantedBy: ['multi-user.target'],
            type: 'oneshot',
            remainAfterExit: true,
            execStart: [`ip -6 neigh replace proxy ${address} dev ${uplink}`],
            execStop: [`-ip -6 neigh del proxy ${address} dev ${uplink}`],
          }),
        ]
      : []),
    ociContainerUnit({
      name: p.probeName,
      image: layout.image,
      network: p.networkName,
      ipv6: address,
      publish: [],
      command: responderCommand(p.probeName, [], [], [p.probePort]),
      dependsOn: [networkUnit, noNatUnit, ...(proxied ? [proxyUnit] : [])],
    }, layout),
  ];
  return {
    design,
    params: { ...p },
    files: {
      [`sysctl.d/60-${design}.conf`]: renderSysctlFile(sysctls, `${design}: forwarding${proxied ? ' and proxy_ndp' : ''}`),
      [`${p.networkName}/network.json`]: renderNetworkDefinition(p),
    },
    units,
    probe: { name: p.probeName, network: p.networkName, listenPort: p.probePort, ipv6: address },
    networks: [{ name: p.networkName, subnets: [p.ipv4Subnet, p.ipv6Subnet], ipv6: true }],
    sysctls,
    egressSource: 'container',
    expectations: proxied
      ? {
          ...dockerCoexistenceExpectations(p.acceptPodmanInDockerUser, config),
          // Reachable from the internet on every port it listens on, and inside the host /64.
          'no-inbound': 'fail',
          // proxy_ndp and a proxy entry on the uplink: the host's own interface changes
          // (host-unchanged; the same before and after a reboot, so idempotent-reboot passes).
          'host-unchanged': 'fail',
          'host-64-touched': 'fail',
          ...mailCaveatExpectations(true),
          ...NOT_FOR_ROUTED,
        }
      : {
          // Its IPv6 egress fails, so an IPv6-first mail client falls back to web-arm's IPv4 (FCrDNS): no caveat.
          ...mailCaveatExpectations(false),
          // Where nothing lets DNS reach aardvark-dns (a bare netavark 1.4, NixOS's firewall), the probe
          // resolves only through the lab DNS's IPv6: no names at all, so IPv4 egress by name and mail fail.
          ...containerDnsExpectations(config, false),
          ...dockerCoexistenceExpectations(p.acceptPodmanInDockerUser, config),
          // The router's neighbour solicitations for the container address go unanswered.
          'egress-nat66': 'fail',
          'inbound-reachability': 'fail',
          'host-64-touched': 'fail',
          // Egress fails before a redeploy or reboot and after it alike: the idempotency stories pass.
          'router-outage': 'fail',
          ...NOT_FOR_ROUTED,
        },
  };
}

/** Stories written around v6egress's ULA network (NAT66 faults and its ensure step). */
const NOT_FOR_ROUTED = {
  'firewall-reload': 'skipped',
  drift: 'skipped',
  'subnet-collision': 'skipped',
  'ra-control': 'skipped',
} as const;

export const routedSubprefix: Design<RoutedParams> = {
  name: 'routed-subprefix',
  summary: 'GUA sub-prefix of the host /64 on a podman bridge, routed without NAT66, no NDP proxy',
  parseParams: (raw, config) => parseRoutedParams(raw, config, 'none'),
  plan: (p, config, layout) => planRouted('routed-subprefix', p, config, layout),
};

export const routedSubprefixNdp: Design<RoutedParams> = {
  name: 'routed-subprefix-ndp',
  summary: 'the same plus proxy_ndp with a per-address proxy entry on the uplink',
  parseParams: (raw, config) => parseRoutedParams(raw, config, 'proxy_ndp'),
  plan: (p, config, layout) => planRouted('routed-subprefix-ndp', p, config, layout),
};
