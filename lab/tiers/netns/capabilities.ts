/**
 * What web-arm can do on the netns tier: namespaces of this machine with the lab's emulated
 * systemd, this machine's podman and netavark (1.4 on bookworm: iptables driver only) behind the
 * lab's wrapper that adds netavark 1.14's DNS accepts (netavarkWrapper.ts), no dockerd, no MTA,
 * no nspawn. Pure.
 */
import type { Capabilities } from '../capabilityTypes.ts';
import type { LabConfig } from '../../topology/config.ts';

export function netnsCapabilities(_config: LabConfig): Capabilities {
  return {
    realSystemd: false,
    realReboot: false,
    docker: false,
    dockerd: false,
    postfix: false,
    nspawn: false,
    clatd: false,
    netavarkNftables: false,
    netavarkAcceptsDns: true,
    firewallLogLines: false,
    snapshot: false,
    concurrentCommands: true,
    labsSideBySide: 2,
    emulated: {
      netavarkAcceptsDns:
        "netavark 1.14's DNS accepts (NETAVARK_INPUT, iptables driver) kept by the lab's netavark wrapper beside this machine's netavark 1.4",
    },
  };
}
