/**
 * What web-arm can do on the qemu tier. The Debian trixie guest has real systemd, docker.io,
 * postfix, systemd-container, clatd and netavark 1.14 (both firewall drivers) and can be saved
 * and restored; the NixOS guest has real systemd and what its modules configure (no snapshot).
 * A guest's agent serves one client at a time: its commands come from one process. Pure.
 */
import type { Capabilities } from '../capabilityTypes.ts';
import type { LabConfig } from '../../topology/config.ts';

export function qemuCapabilities(config: LabConfig): Capabilities {
  const debian = config.lab.guest === 'debian';
  return {
    realSystemd: true,
    realReboot: true,
    docker: debian,
    dockerd: debian && config.webArm.docker.enabled,
    postfix: debian,
    nspawn: debian,
    clatd: debian,
    netavarkNftables: true,
    netavarkAcceptsDns: true,
    firewallLogLines: true,
    snapshot: debian,
    concurrentCommands: false,
    labsSideBySide: 1,
    emulated: {},
  };
}
