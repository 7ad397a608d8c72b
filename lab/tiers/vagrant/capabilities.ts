/**
 * What web-arm can do on the vagrant tier: a NixOS VM with real systemd and a real reboot
 * (`vagrant reload`); no Docker, MTA, nspawn or CLAT in its module; no snapshot. Its scenarios run one
 * at a time, as on the qemu tier. Pure.
 */
import type { Capabilities } from '../capabilityTypes.ts';
import type { LabConfig } from '../../topology/config.ts';

export function vagrantCapabilities(_config: LabConfig): Capabilities {
  return {
    realSystemd: true,
    realReboot: true,
    docker: false,
    dockerd: false,
    postfix: false,
    nspawn: false,
    clatd: false,
    netavarkNftables: true,
    netavarkAcceptsDns: true,
    firewallLogLines: true,
    snapshot: false,
    concurrentCommands: false,
    labsSideBySide: 1,
    emulated: {},
  };
}
