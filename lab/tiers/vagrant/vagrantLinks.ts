/**
 * web-arm's uplink on the vagrant tier, as commands. Pure.
 *
 * The VM runs in the machine's own namespace (libvirtd's or vagrant-qemu's QEMU), so its NIC
 * cannot be a tap inside the router's namespace as on the qemu tier. The lab makes, in the
 * machine's namespace, a bridge that only carries frames (no address, IPv6 off, not seen by the
 * machine's iptables, no route, no NAT), a veth from that bridge to the router (whose end
 * becomes the router's port to web-arm), and for the qemu provider a tap on the bridge. All
 * three carry the lab's mark (v6l<hash>…, alias v6lab:<lab>): `lab down` deletes them by prefix.
 */
import type { LabPlan } from '../../topology/plan.ts';
import type { VagrantNames, VagrantProvider } from './vagrantPlan.ts';

function ipv6Off(ifname: string): string[] {
  return ['sysctl', '-q', '-w', `net.ipv6.conf.${ifname}.disable_ipv6=1`];
}

/** The links the tier leaves in the machine's namespace (all marked with the lab's prefix). */
export function vagrantRootLinks(names: VagrantNames, provider: VagrantProvider): string[] {
  return provider === 'qemu' ? [names.bridge, names.bridgePort, names.tap] : [names.bridge, names.bridgePort];
}

export function vagrantLinkArgvs(plan: LabPlan, names: VagrantNames, provider: VagrantProvider): string[][] {
  const mark = `v6lab:${plan.name}`;
  const router = plan.upstream.netnsName;
  const port = plan.upstream.toWebArmIf;
  const argvs: string[][] = [
    // The bridge: frames only, never filtered by the machine's (br_netfilter) iptables.
    ['ip', 'link', 'add', names.bridge, 'type', 'bridge', 'nf_call_iptables', '0', 'nf_call_ip6tables', '0', 'nf_call_arptables', '0'],
    ['ip', 'link', 'set', 'dev', names.bridge, 'alias', mark],
    ipv6Off(names.bridge),
    // The veth: one end on the bridge, the other moved at once into the router as its port to web-arm.
    ['ip', 'link', 'add', plan.upstream.toWebArmTmp, 'type', 'veth', 'peer', 'name', names.bridgePort],
    ['ip', 'link', 'set', 'dev', plan.upstream.toWebArmTmp, 'alias', mark],
    ['ip', 'link', 'set', 'dev', names.bridgePort, 'alias', mark],
    ipv6Off(names.bridgePort),
    ['ip', 'link', 'set', 'dev', plan.upstream.toWebArmTmp, 'netns', router],
    ['ip', '-n', router, 'link', 'set', 'dev', plan.upstream.toWebArmTmp, 'name', port, 'address', plan.config.upstream.mac],
    ['ip', '-n', router, 'link', 'set', 'dev', port, 'up'],
    ['ip', 'link', 'set', 'dev', names.bridgePort, 'master', names.bridge, 'up'],
  ];
  if (provider === 'qemu') {
    argvs.push(
      ['ip', 'tuntap', 'add', 'dev', names.tap, 'mode', 'tap'],
      ['ip', 'link', 'set', 'dev', names.tap, 'alias', mark],
      ipv6Off(names.tap),
      ['ip', 'link', 'set', 'dev', names.tap, 'master', names.bridge, 'up'],
    );
  }
  argvs.push(['ip', 'link', 'set', 'dev', names.bridge, 'up']);
  return argvs;
}
