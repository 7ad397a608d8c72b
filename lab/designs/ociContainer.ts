/**
 * `podman-<name>.service` units shaped like NixOS's virtualisation.oci-containers units
 * (podman backend): the container runs with --rm and --replace, is stopped on unit stop,
 * and is ordered after the units it needs.
 */
import { joinExecLine } from '../units/exec-line.ts';
import { defineService, type UnitSpec } from '../units/model.ts';
import type { PortMapping } from '../topology/config.ts';

export interface OciContainer {
  name: string;
  image: string;
  network?: string;
  /** A fixed IPv6 address on that network (--ip6). */
  ipv6?: string;
  publish: PortMapping[];
  command: string[];
  /** Units this container needs started first (e.g. the network's ensure unit). */
  dependsOn: string[];
}

export function ociUnitName(container: string): string {
  return `podman-${container}.service`;
}

export function ociContainerUnit(c: OciContainer): UnitSpec {
  const run = [
    'podman', 'run', '--rm', `--name=${c.name}`, '-d', '--replace', '--stop-timeout=5',
    `--label=v6lab.unit=${ociUnitName(c.name)}`,
    ...(c.network ? [`--network=${c.network}`] : []),
    ...(c.ipv6 ? [`--ip6=${c.ipv6}`] : []),
    ...c.publish.map((p) => `-p=${p.hostPort}:${p.containerPort}/${p.protocol}`),
    c.image,
    ...c.command,
  ];
  return defineService({
    name: ociUnitName(c.name),
    description: `podman container ${c.name}`,
    wants: ['network-online.target', ...c.dependsOn],
    requires: c.dependsOn,
    after: ['network-online.target', 'podman.service', ...c.dependsOn],
    wantedBy: ['multi-user.target'],
    type: 'oneshot',
    remainAfterExit: true,
    execStartPre: [`-podman rm -f --ignore ${c.name}`],
    execStart: [joinExecLine(run)],
    execStop: [`podman stop --ignore -t 5 ${c.name}`],
    execStopPost: [`-podman rm -f --ignore ${c.name}`],
  });
}

/** The stand-in command: the lab's responder listening on the container's ports. */
export function responderCommand(name: string, tcp: number[], udp: number[], http: number[] = []): string[] {
  return [
    '/usr/local/bin/v6lab-responder', '--name', name,
    ...http.flatMap((p) => ['--http', String(p)]),
    ...tcp.flatMap((p) => ['--tcp', String(p)]),
    ...udp.flatMap((p) => ['--udp', String(p)]),
  ];
}
