/**
 * The Debian guest's networkd equivalent of an uplink sysctl networkd would undo
 * (lab/tiers/qemu/guestEtc.ts): proxy_ndp on the uplink from sysctl.d becomes IPv6ProxyNDP in
 * a drop-in for the uplink's .network, and that drop-in restarts networkd when it changes. Pure.
 */
import { describe, expect, it } from 'vitest';
import { RESTART_ON_CHANGE, uplinkSysctlDropIns } from '../../lab/tiers/qemu/guestEtc.ts';

describe('uplinkSysctlDropIns', () => {
  it("carries the uplink's proxy_ndp into a networkd drop-in (networkd writes proxy_ndp whenever it configures the link)", () => {
    const files = {
      'sysctl.d/50-web-arm.conf': 'net.ipv6.conf.enp1s0.accept_ra = 0\n',
      'sysctl.d/60-routed-subprefix-ndp.conf': '# routed\nnet.ipv6.conf.all.forwarding = 1\nnet.ipv6.conf.enp1s0.proxy_ndp = 1\n',
    };
    expect(uplinkSysctlDropIns(files, 'enp1s0')).toEqual({
      'systemd/network/10-enp1s0.network.d/40-v6lab-uplink-sysctl.conf':
        '# net.ipv6.conf.enp1s0.proxy_ndp = 1 from sysctl.d, as networkd would otherwise undo it (written by v6lab)\n[Network]\nIPv6ProxyNDP=yes\n',
    });
  });

  it('writes nothing where no sysctl sets it (networkd keeps the default), and follows another uplink name', () => {
    expect(uplinkSysctlDropIns({ 'sysctl.d/60-v6egress.conf': 'net.ipv6.conf.all.forwarding = 1\n' }, 'enp1s0')).toEqual({});
    expect(Object.keys(uplinkSysctlDropIns({ 'sysctl.d/x.conf': 'net.ipv6.conf.eth0.proxy_ndp=1\n' }, 'eth0'))).toEqual(['systemd/network/10-eth0.network.d/40-v6lab-uplink-sysctl.conf']);
  });

  it('a change of the drop-in (or its removal) restarts networkd; other networkd files do not', () => {
    const restarts = (path: string) => RESTART_ON_CHANGE.filter((r) => path.startsWith(r.prefix) && (r.suffix === undefined || path.endsWith(r.suffix))).map((r) => r.unit);
    expect(restarts('/etc/systemd/network/10-enp1s0.network.d/40-v6lab-uplink-sysctl.conf')).toEqual(['systemd-networkd.service']);
    expect(restarts('/etc/systemd/network/10-enp1s0.network.d/60-nspawn-delegated-proxy-ndp.conf')).toEqual([]);
    expect(restarts('/etc/sysctl.d/60-v6egress.conf')).toEqual(['systemd-sysctl.service']);
  });
});
