/**
 * docker-ula-portfwd: a user-defined Docker network on a ULA /64 with Docker's own IPv6 NAT
 * (`ip6tables`, which Docker 26 accepts only with `experimental`), and a published port. The
 * container egresses as the host GUA (masquerade), and `[host GUA]:publishPort` is DNAT'ed to
 * its ULA, so the container sees the internet client's own IPv6 address.
 *
 * Trade-offs: inbound only on published ports (DNAT'ed traffic is forwarded, not input: the
 * host firewall's allowed ports do not govern it); nothing of the host /64 is touched; the
 * upstream needs nothing.
 */
import { mailCaveatExpectations } from './mailCaveat.ts';
import { ConfigError } from '../errors.ts';
import { hostInSubnet, cidrOf } from '../topology/addresses.ts';
import ipaddr from 'ipaddr.js';
import type { LabConfig } from '../topology/config.ts';
import { defineService } from '../units/model.ts';
import { renderSysctlFile } from './baseSystem.ts';
import type { Design, DesignPlan, HostLayout } from './design.ts';
import { checkClearOfDocker0, checkDockerUserFix, dockerCoexistenceExpectations, dockerUserUnits, DAEMON_JSON, dockerContainerUnit, dockerExec, dockerUnitName, renderDaemonJson, requireDockerd } from './dockerEngine.ts';
import { responderCommand } from './ociContainer.ts';
import { checkNetworkName, checkPort, checkPrivateIpv4Subnet, checkProbe, checkUlaSubnet, paramField, rejectUnknownParams } from './params.ts';

export interface DockerUlaParams {
  networkName: string;
  ipv4Subnet: string;
  ipv6Subnet: string;
  probeName: string;
  probePort: number;
  /** The host port published for probePort (IPv4 and IPv6). */
  publishPort: number;
  /** A port the probe listens on that is not published (must not answer from the internet). */
  unpublishedPort: number;
  /** DOCKER-USER accepts for podman's bridges (dockerEngine.ts): on by default, dockerd always runs here. */
  acceptPodmanInDockerUser: boolean;
}

export const DOCKER_ULA_DEFAULTS: DockerUlaParams = {
  networkName: 'v6nat',
  ipv4Subnet: '10.91.0.0/24',
  ipv6Subnet: 'fdaa:bbcc:dd0c::/64',
  probeName: 'v6probe',
  probePort: 8080,
  publishPort: 8443,
  unpublishedPort: 9090,
  acceptPodmanInDockerUser: true,
};

const DESIGN = 'docker-ula-portfwd';

export function parseDockerUlaParams(raw: Record<string, unknown>, config: LabConfig): DockerUlaParams {
  rejectUnknownParams(raw, Object.keys(DOCKER_ULA_DEFAULTS), DESIGN);
  requireDockerd(DESIGN, config);
  const p = { ...DOCKER_ULA_DEFAULTS, ...raw } as Record<string, unknown>;
  const networkName = checkNetworkName(p.networkName, DOCKER_ULA_DEFAULTS.networkName);
  const v4 = checkPrivateIpv4Subnet(p.ipv4Subnet, config, DOCKER_ULA_DEFAULTS.ipv4Subnet);
  checkClearOfDocker0('ipv4Subnet', v4);
  const v6 = checkUlaSubnet(p.ipv6Subnet, config, DOCKER_ULA_DEFAULTS.ipv6Subnet);
  const probe = checkProbe(p.probeName, p.probePort, config);
  const publishPort = checkPort('publishPort', p.publishPort, DOCKER_ULA_DEFAULTS.publishPort);
  const unpublishedPort = checkPort('unpublishedPort', p.unpublishedPort, DOCKER_ULA_DEFAULTS.unpublishedPort);
  const taken = new Map<number, string>();
  for (const c of config.webArm.containers) for (const m of c.publish) taken.set(m.hostPort, c.name);
  if (taken.has(publishPort)) {
    throw new ConfigError(paramField('publishPort'), publishPort, `is already published by ${taken.get(publishPort)}`, `publish the probe on a free port, e.g. ${DOCKER_ULA_DEFAULTS.publishPort}`);
  }
  if (unpublishedPort === probe.probePort) {
    throw new ConfigError(paramField('unpublishedPort'), unpublishedPort, 'equals probePort (which is published)', `use another port, e.g. ${DOCKER_ULA_DEFAULTS.unpublishedPort}`);
  }
  return { networkName, ipv4Subnet: v4.text, ipv6Subnet: v6.text, ...probe, publishPort, unpublishedPort, acceptPodmanInDockerUser: checkDockerUserFix(raw.acceptPodmanInDockerUser, config) };
}

export function ensureDockerNetworkCommand(p: DockerUlaParams): string {
  return `docker network inspect ${p.networkName} >/dev/null 2>&1 || docker network create --ipv6 --subnet ${p.ipv4Subnet} --subnet ${p.ipv6Subnet} ${p.networkName}`;
}

export function planDockerUla(p: DockerUlaParams, config: LabConfig, layout: HostLayout): DesignPlan {
  const sysctls = { 'net.ipv6.conf.all.forwarding': '1' };
  const networkUnit = `docker-network-${p.networkName}.service`;
  const probeUnit = dockerUnitName(p.probeName);
  const address = hostInSubnet(cidrOf(...ipaddr.parseCIDR(p.ipv6Subnet)), 0x100);
  return {
    design: DESIGN,
    params: { ...p },
    files: {
      [`sysctl.d/60-${DESIGN}.conf`]: renderSysctlFile(sysctls, `${DESIGN}: forward for Docker's NAT66`),
      [DAEMON_JSON]: renderDaemonJson({ experimental: true, ip6tables: true }),
    },
    units: [
      ...dockerUserUnits(p.acceptPodmanInDockerUser),
      defineService({
        name: networkUnit,
        description: `Ensure the ${p.networkName} Docker network (dual-stack, ULA, Docker's NAT66)`,
        wants: ['docker.service'],
        requires: ['docker.service'],
        after: ['docker.service', 'systemd-sysctl.service'],
        before: [probeUnit],
        wantedBy: ['multi-user.target'],
        type: 'oneshot',
        remainAfterExit: true,
        execStart: [`/bin/sh -c '${ensureDockerNetworkCommand(p)}'`],
      }),
      dockerContainerUnit({
        name: p.probeName,
        image: layout.image,
        network: p.networkName,
        ipv6: address,
        publish: [{ hostPort: p.publishPort, containerPort: p.probePort, protocol: 'tcp' }],
        command: responderCommand(p.probeName, [p.unpublishedPort], [], [p.probePort]),
        dependsOn: [networkUnit],
      }),
    ],
    probe: {
      name: p.probeName,
      network: p.networkName,
      listenPort: p.probePort,
      ipv6: address,
      exec: dockerExec(p.probeName),
      unit: probeUnit,
      published: { hostPort: p.publishPort, containerPort: p.probePort, unpublishedPort: p.unpublishedPort },
    },
    networks: [{ name: p.networkName, subnets: [p.ipv4Subnet, p.ipv6Subnet], ipv6: true, engine: 'docker', ensureCommand: ensureDockerNetworkCommand(p) }],
    sysctls,
    egressSource: 'host',
    expectations: {
      ...dockerCoexistenceExpectations(p.acceptPodmanInDockerUser, config),
      // Masqueraded ULA: the container's own address is not reachable (only the published port is).
      'inbound-reachability': 'fail',
      ...mailCaveatExpectations(true),
      // podman-network stories (NAT66 faults of netavark, its ensure step, aardvark-dns).
      'firewall-reload': 'skipped',
      drift: 'skipped',
      'subnet-collision': 'skipped',
      'container-dns': 'skipped',
    },
  };
}

export const dockerUlaPortfwd: Design<DockerUlaParams> = {
  name: DESIGN,
  summary: "Docker network on a ULA /64 with Docker's NAT66 (ip6tables, experimental) and an IPv6 published port",
  parseParams: parseDockerUlaParams,
  plan: planDockerUla,
};
