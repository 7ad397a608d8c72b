/**
 * What the Docker designs share: dockerd's daemon.json (NixOS's virtualisation.docker.daemon
 * settings), `docker-<name>.service` units shaped like NixOS's oci-containers units with the
 * docker backend, and the checks of parameters against docker0. Pure.
 */
import { ConfigError } from '../errors.ts';
import { capabilitiesOf, requireCapability } from '../tiers/capabilities.ts';
import { cidrsOverlap, type Cidr, parseCidr } from '../topology/addresses.ts';
import type { LabConfig, PortMapping } from '../topology/config.ts';
import { joinExecLine } from '../units/exec-line.ts';
import { defineService, type UnitSpec } from '../units/model.ts';
import { paramField } from './params.ts';

/** docker0, Docker's default bridge (bip 172.17.0.1/16). */
export const DOCKER0_SUBNET = '172.17.0.0/16';

/** The base settings (what production's virtualisation.docker writes: journald logs, live restore) plus a design's own. */
export function renderDaemonJson(settings: Record<string, unknown>): string {
  return `${JSON.stringify({ 'log-driver': 'journald', 'live-restore': true, ...settings }, null, 2)}\n`;
}

/** Where a Docker design's daemon.json goes (relative to the layout's etc). */
export const DAEMON_JSON = 'docker/daemon.json';

export function dockerUnitName(container: string): string {
  return `docker-${container}.service`;
}

export function dockerExec(container: string): string {
  return `docker exec ${container}`;
}

/** Whether web-arm runs a real dockerd (a tier whose web-arm has Docker, and docker enabled). */
export function dockerdRuns(config: LabConfig): boolean {
  return capabilitiesOf(config).dockerd;
}

/**
 * The design option `acceptPodmanInDockerUser`: default on where dockerd runs; asking for it
 * where no dockerd runs is an error.
 */
export function checkDockerUserFix(value: unknown, config: LabConfig): boolean {
  if (value === undefined) return dockerdRuns(config);
  if (typeof value !== 'boolean') {
    throw new ConfigError(paramField('acceptPodmanInDockerUser'), value, 'is not a boolean', 'write --set design.params.acceptPodmanInDockerUser=true or false');
  }
  if (value && !dockerdRuns(config)) {
    throw new ConfigError(paramField('acceptPodmanInDockerUser'), true, "needs dockerd's DOCKER-USER chain, and dockerd runs only on the qemu tier's Debian guest with webArm.docker.enabled", 'use --host qemu, or leave it false');
  }
  return value;
}

/**
 * dockerd sets iptables' FORWARD policy to DROP when it finds IPv4 forwarding off and turns it
 * on itself (at boot when it starts before any podman container). Then netavark's iptables
 * driver still accepts egress in that chain (NETAVARK_FORWARD) but has no accept for DNAT'ed
 * connections, so published ports die; its nftables driver accepts in a table of its own,
 * which does not override a drop in another table (podman issue 24486): IPv4 egress dies too.
 * These DOCKER-USER accepts for podman's bridges fix both; dockerd keeps DOCKER-USER and jumps
 * to it first, and the unit re-ensures them after every docker start. The same drop stops
 * nspawn's ve- links, whose designs pass their pattern too.
 */
function dockerUserRules(interfaces: readonly string[]): string[] {
  return interfaces.flatMap((i) => [`-i ${i} -j ACCEPT`, `-o ${i} -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT`]);
}

export function dockerUserUnits(enabled: boolean, interfaces: readonly string[] = ['podman+']): UnitSpec[] {
  if (!enabled) return [];
  const rules = dockerUserRules(interfaces);
  const ensure = rules.map((r) => `iptables -w -C DOCKER-USER ${r} 2>/dev/null || iptables -w -I DOCKER-USER ${r}`).join('; ');
  return [
    defineService({
      name: 'podman-docker-user.service',
      description: `Let ${interfaces.join(', ')} through dockerd's FORWARD policy DROP (DOCKER-USER accepts)`,
      after: ['docker.service'],
      requires: ['docker.service'],
      partOf: ['docker.service'],
      wantedBy: ['multi-user.target', 'docker.service'],
      type: 'oneshot',
      remainAfterExit: true,
      execStart: [`/bin/sh -c '${ensure}'`],
      execStop: rules.map((r) => `-iptables -w -D DOCKER-USER ${r}`),
    }),
  ];
}

/** What a design without the DOCKER-USER accepts declares beside dockerd (published ports die; with nftables, IPv4 egress too). */
export function dockerCoexistenceExpectations(accepted: boolean, config: LabConfig): Record<string, 'fail'> {
  if (!dockerdRuns(config) || accepted) return {};
  return {
    'docker-coexistence': 'fail',
    'isolation-default': 'fail',
    ...(config.webArm.podman.firewallDriver === 'nftables' ? { 'egress-v4': 'fail' as const } : {}),
  };
}

/** A Docker design needs a web-arm with Docker (the netns tier has none), and dockerd on. */
export function requireDockerd(design: string, config: LabConfig): void {
  requireCapability(config, 'docker', `design ${design}`, 'a real dockerd on web-arm');
  if (!config.webArm.docker.enabled) {
    throw new ConfigError('webArm.docker.enabled', false, `design ${design} is a Docker setup`, 'leave webArm.docker.enabled at true');
  }
}

/** An IPv4 subnet for a Docker network must stay clear of docker0. */
export function checkClearOfDocker0(field: string, subnet: Cidr): void {
  const docker0 = parseCidr('docker0', DOCKER0_SUBNET, 4, DOCKER0_SUBNET);
  if (cidrsOverlap(subnet, docker0)) {
    throw new ConfigError(paramField(field), subnet.text, `overlaps docker0's ${DOCKER0_SUBNET}`, 'use a private subnet outside it, e.g. 10.91.0.0/24');
  }
}

export interface DockerContainer {
  name: string;
  image: string;
  network?: string;
  /** A fixed IPv6 address on a user-defined network (--ip6). */
  ipv6?: string;
  /** A fixed MAC (on docker0, dockerd derives the IPv6 address from it). */
  mac?: string;
  publish: PortMapping[];
  command: string[];
  dependsOn: string[];
}

/**
 * The container's image comes from web-arm's podman storage (preloaded there) the way the
 * NixOS unit loads an imageFile: `docker load` before the first start, nothing when present.
 */
function loadImageCommand(image: string): string {
  return `/bin/sh -c 'docker image inspect ${image} >/dev/null 2>&1 || podman save ${image} | docker load'`;
}

export function dockerContainerUnit(c: DockerContainer): UnitSpec {
  const run = [
    'docker', 'run', '--rm', `--name=${c.name}`, '-d', '--stop-timeout=5', '--log-driver=journald',
    `--label=v6lab.unit=${dockerUnitName(c.name)}`,
    ...(c.network ? [`--network=${c.network}`] : []),
    ...(c.ipv6 ? [`--ip6=${c.ipv6}`] : []),
    ...(c.mac ? [`--mac-address=${c.mac}`] : []),
    ...c.publish.map((p) => `-p=${p.hostPort}:${p.containerPort}/${p.protocol}`),
    c.image,
    ...c.command,
  ];
  const needs = ['docker.service', ...c.dependsOn];
  return defineService({
    name: dockerUnitName(c.name),
    description: `docker container ${c.name}`,
    wants: ['network-online.target', ...needs],
    requires: needs,
    after: ['network-online.target', ...needs],
    wantedBy: ['multi-user.target'],
    type: 'oneshot',
    remainAfterExit: true,
    timeoutStartSec: 600,
    execStartPre: [loadImageCommand(c.image), `-docker rm -f ${c.name}`],
    execStart: [joinExecLine(run)],
    execStop: [`-docker stop -t 5 ${c.name}`],
    execStopPost: [`-docker rm -f ${c.name}`],
  });
}
