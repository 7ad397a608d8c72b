/**
 * Declared verdicts that follow container DNS (lab/designs/containerDns.ts): where nothing lets
 * the probe's queries reach aardvark-dns (a bare netavark 1.4 with NixOS's firewall as it is) a
 * probe without IPv6 egress resolves nothing; the routed design would declare it there. Every tier
 * accepts DNS now (netns by the lab's netavark wrapper), so none declares it. Pure.
 */
import { describe, expect, it } from 'vitest';
import { aardvarkDnsBlocked, containerDnsExpectations } from '../../lab/designs/containerDns.ts';
import { planDesign } from '../../lab/designs/registry.ts';
import { capabilitiesOf } from '../../lab/tiers/capabilities.ts';
import { defaultConfig, type LabConfig } from '../../lab/topology/config.ts';

const LAYOUT = { etc: '/etc', podmanSocket: '/run/podman/podman.sock', image: 'img', networkConfigDir: '/etc/containers/networks' };

function config(change: (c: LabConfig) => void = () => undefined): LabConfig {
  const c = defaultConfig();
  change(c);
  return c;
}

describe('container DNS as a declared verdict', () => {
  const bareNetavark14 = { netavarkAcceptsDns: false };

  it('is blocked only where netavark accepts no DNS and NixOS\'s firewall is as it is', () => {
    expect(aardvarkDnsBlocked(config(), bareNetavark14)).toBe(true);
    expect(aardvarkDnsBlocked(config((c) => (c.webArm.firewall.allowDnsOnPodmanBridges = true)), bareNetavark14)).toBe(false);
    // netns: the lab's netavark wrapper adds netavark 1.14's accepts (emulated); qemu: netavark 1.14's own.
    expect(aardvarkDnsBlocked(config())).toBe(false);
    expect(aardvarkDnsBlocked(config((c) => (c.lab.tier = 'qemu')))).toBe(false);
  });

  it('the netns tier says that its accept is emulated, the qemu guest has the real one', () => {
    expect(capabilitiesOf(config()).emulated.netavarkAcceptsDns).toMatch(/netavark 1\.14/);
    expect(capabilitiesOf(config((c) => (c.lab.tier = 'qemu'))).emulated.netavarkAcceptsDns).toBeUndefined();
  });

  it('fails name-based stories only for a probe without IPv6 egress', () => {
    expect(containerDnsExpectations(config(), false, bareNetavark14)).toEqual({ 'egress-v4': 'fail', 'mail-from-container': 'fail' });
    expect(containerDnsExpectations(config(), true, bareNetavark14)).toEqual({});
    expect(containerDnsExpectations(config(), false)).toEqual({});
  });

  it('routed-subprefix declares them nowhere now that every tier accepts DNS; routed-subprefix-ndp and v6egress do not either', () => {
    const routed = (c: LabConfig) => planDesign({ ...c, design: { name: 'routed-subprefix', params: {} } }, LAYOUT).expectations;
    for (const c of [config(), config((x) => (x.lab.tier = 'qemu')), config((x) => (x.webArm.firewall.allowDnsOnPodmanBridges = true))]) {
      expect(routed(c)['egress-v4']).toBeUndefined();
      expect(routed(c)['mail-from-container']).toBeUndefined();
    }
    expect(routed(config())).toMatchObject({ 'egress-nat66': 'fail' });
    const ndp = planDesign({ ...config(), design: { name: 'routed-subprefix-ndp', params: {} } }, LAYOUT).expectations;
    expect(ndp['egress-v4']).toBeUndefined();
    expect(planDesign(config(), LAYOUT).expectations['egress-v4']).toBeUndefined();
  });
});
