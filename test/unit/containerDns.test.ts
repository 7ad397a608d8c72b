/**
 * Declared verdicts that follow container DNS (lab/designs/containerDns.ts): where nothing lets
 * the probe's queries reach aardvark-dns (netns: netavark 1.4, NixOS's firewall as it is) a probe
 * without IPv6 egress resolves nothing; the routed design declares it there and only there. Pure.
 */
import { describe, expect, it } from 'vitest';
import { aardvarkDnsBlocked, containerDnsExpectations } from '../../lab/designs/containerDns.ts';
import { planDesign } from '../../lab/designs/registry.ts';
import { defaultConfig, type LabConfig } from '../../lab/topology/config.ts';

const LAYOUT = { etc: '/etc', podmanSocket: '/run/podman/podman.sock', image: 'img', networkConfigDir: '/etc/containers/networks' };

function config(change: (c: LabConfig) => void = () => undefined): LabConfig {
  const c = defaultConfig();
  change(c);
  return c;
}

describe('container DNS as a declared verdict', () => {
  it('is blocked on the netns tier with NixOS\'s firewall as it is, not with the fix or on the qemu guest', () => {
    expect(aardvarkDnsBlocked(config())).toBe(true);
    expect(aardvarkDnsBlocked(config((c) => (c.webArm.firewall.allowDnsOnPodmanBridges = true)))).toBe(false);
    expect(aardvarkDnsBlocked(config((c) => (c.lab.tier = 'qemu')))).toBe(false);
  });

  it('fails name-based stories only for a probe without IPv6 egress', () => {
    expect(containerDnsExpectations(config(), false)).toEqual({ 'egress-v4': 'fail', 'mail-from-container': 'fail' });
    expect(containerDnsExpectations(config(), true)).toEqual({});
  });

  it('routed-subprefix declares them on netns only; routed-subprefix-ndp and v6egress do not', () => {
    const routed = (c: LabConfig) => planDesign({ ...c, design: { name: 'routed-subprefix', params: {} } }, LAYOUT).expectations;
    expect(routed(config())).toMatchObject({ 'egress-v4': 'fail', 'mail-from-container': 'fail', 'egress-nat66': 'fail' });
    expect(routed(config((c) => (c.webArm.firewall.allowDnsOnPodmanBridges = true)))['egress-v4']).toBeUndefined();
    expect(routed(config((c) => (c.webArm.firewall.allowDnsOnPodmanBridges = true)))['mail-from-container']).toBeUndefined();
    const ndp = planDesign({ ...config(), design: { name: 'routed-subprefix-ndp', params: {} } }, LAYOUT).expectations;
    expect(ndp['egress-v4']).toBeUndefined();
    expect(planDesign(config(), LAYOUT).expectations['egress-v4']).toBeUndefined();
  });
});
