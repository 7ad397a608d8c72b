/**
 * `podman-<name>.service` units as nixos-25.11's virtualisation.oci-containers writes them for
 * the podman backend (root, sdnotify conmon, autoStart, autoRemoveOnStop, pull missing, no
 * imageFile): Type=notify with NotifyAccess=all (podman's conmon says READY=1 once the
 * container runs, and its pid is the main pid), Restart=always, TimeoutStartSec=0,
 * TimeoutStopSec=120, RuntimeDirectory=<name> holding the container id file, a pre-start that
 * removes a leftover container and id file, stop and post-stop by the id file, wants/after
 * network-online.target and the units of what it depends on (not podman.service). Pure.
 *
 * Mirrors nixpkgs nixos/modules/virtualisation/oci-containers.nix (commit
 * 035a24e7ed33009b8a503ad0b76679665b8977a8). Differences, kept on purpose (README lists them):
 * NixOS runs `exec podman run …` and the pre-start from Nix store scripts (here the same
 * commands as Exec lines); PODMAN_SYSTEMD_UNIT is the unit's name written out (NixOS writes %n,
 * which systemd expands to it); where web-arm has no journald (the netns tier) the log driver is
 * podman's k8s-file instead of journald; and the design's own units (a network's ensure unit) are
 * added to the dependencies, as the design's module adds them to systemd.services.podman-<name>.
 */
import { joinExecLine } from '../units/exec-line.ts';
import { defineService, type UnitSpec } from '../units/model.ts';
import type { PortMapping } from '../topology/config.ts';
import type { HostLayout } from './design.ts';

/** The nixpkgs file and commit this rendering mirrors (named by the golden test and README). */
export const NIXPKGS_OCI_CONTAINERS_SOURCE = {
  'nixos/modules/virtualisation/oci-containers.nix': '035a24e7ed33009b8a503ad0b76679665b8977a8',
} as const;

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

/** Where the unit keeps the container's id (RuntimeDirectory=<name>, as NixOS's --cidfile). */
export function ociCidFile(container: string): string {
  return `/run/${container}/ctr-id`;
}

/**
 * The log driver: NixOS's default journald where web-arm has a journal (a real systemd);
 * podman's own k8s-file where it has none (the netns tier's emulated systemd).
 */
export function ociLogDriver(layout: Pick<HostLayout, 'systemd'>): 'journald' | 'k8s-file' {
  return layout.systemd === 'real' ? 'journald' : 'k8s-file';
}

/** `podman run …` as NixOS's start script runs it (its arguments in the module's order). */
export function ociRunArgv(c: OciContainer, logDriver: string): string[] {
  return [
    'podman', 'run',
    `--name=${c.name}`,
    `--log-driver=${logDriver}`,
    `--cidfile=${ociCidFile(c.name)}`,
    '--cgroups=enabled',
    '--sdnotify=conmon',
    '-d',
    '--replace',
    ...c.publish.flatMap((p) => ['-p', `${p.hostPort}:${p.containerPort}/${p.protocol}`]),
    '--rm',
    '--pull', 'missing',
    // extraOptions (the design's network, as production's module passes it).
    ...(c.network ? [`--network=${c.network}`] : []),
    ...(c.ipv6 ? [`--ip6=${c.ipv6}`] : []),
    c.image,
    ...c.command,
  ];
}

export function ociContainerUnit(c: OciContainer, layout: Pick<HostLayout, 'systemd'>): UnitSpec {
  const cid = ociCidFile(c.name);
  const unit = ociUnitName(c.name);
  return defineService({
    name: unit,
    description: `podman container ${c.name}`,
    wants: ['network-online.target', ...c.dependsOn],
    requires: c.dependsOn,
    after: ['network-online.target', ...c.dependsOn],
    wantedBy: ['multi-user.target'],
    type: 'notify',
    notifyAccess: 'all',
    user: 'root',
    runtimeDirectory: c.name,
    environment: { PODMAN_SYSTEMD_UNIT: unit },
    execStartPre: [`/bin/sh -c '${`podman rm -f ${c.name} || true; rm -f ${cid}`}'`],
    execStart: [joinExecLine(ociRunArgv(c, ociLogDriver(layout)))],
    execStop: [`podman stop --ignore --cidfile=${cid}`],
    execStopPost: [`podman rm -f --ignore --cidfile=${cid}`],
    restart: 'always',
    timeoutStartSec: 0,
    timeoutStopSec: 120,
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
