import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lab/errors.ts';
import { capabilitiesOf, checkTierConfig, defaultGuestOf, requireCapability } from '../../lab/tiers/capabilities.ts';
import { allTiers, getTier, knownTiers } from '../../lab/tiers/registry.ts';
import { defaultConfig, type LabConfig } from '../../lab/topology/config.ts';
import { CONFORMANCE_CASES } from '../integration/conformance.ts';

const config = (tier: LabConfig['lab']['tier'], guest: LabConfig['lab']['guest'], docker = true): LabConfig => {
  const base = defaultConfig();
  return { ...base, lab: { ...base.lab, tier, guest }, webArm: { ...base.webArm, docker: { ...base.webArm.docker, enabled: docker } } };
};

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('the tier registry', () => {
  it('knows netns, qemu and vagrant; an unknown name fails naming the field and the known ones', () => {
    expect(knownTiers()).toEqual(['netns', 'qemu', 'vagrant']);
    const error = thrown(() => getTier('docker-machine'));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/lab\.tier.*use one of: netns, qemu, vagrant/);
  });

  it('every tier states capabilities for every guest it has, and the conformance story names every tier', () => {
    for (const tier of allTiers()) expect(Object.keys(tier.capabilities(config(tier.name, defaultGuestOf(tier.name)!))).sort()).toEqual(Object.keys(capabilitiesOf(defaultConfig())).sort());
    expect([...new Set(CONFORMANCE_CASES.map((c) => c.tier))].sort()).toEqual(knownTiers());
  });
});

describe('capabilities', () => {
  it('netns: emulated systemd and reboot, no dockerd, commands from several processes', () => {
    expect(capabilitiesOf(config('netns', 'debian'))).toMatchObject({ realSystemd: false, realReboot: false, dockerd: false, postfix: false, concurrentCommands: true, labsSideBySide: 2 });
  });

  it("qemu: the Debian guest has dockerd (as webArm.docker.enabled says), postfix, nspawn and a snapshot; the NixOS guest real systemd only", () => {
    expect(capabilitiesOf(config('qemu', 'debian'))).toMatchObject({ realSystemd: true, realReboot: true, dockerd: true, postfix: true, nspawn: true, snapshot: true, concurrentCommands: false, labsSideBySide: 1 });
    expect(capabilitiesOf(config('qemu', 'debian', false))).toMatchObject({ docker: true, dockerd: false });
    expect(capabilitiesOf(config('qemu', 'nixos'))).toMatchObject({ realSystemd: true, dockerd: false, postfix: false, snapshot: false });
  });

  it('a missing capability is a ConfigError naming the tier and the fix', () => {
    const onNetns = thrown(() => requireCapability(config('netns', 'debian'), 'nspawn', 'design nspawn-ula-nat', 'systemd-nspawn'));
    expect(onNetns).toBeInstanceOf(ConfigError);
    expect((onNetns as Error).message).toMatch(/lab\.tier.*needs nspawn.*use --host qemu/);
    const onNixos = thrown(() => requireCapability(config('qemu', 'nixos'), 'postfix', 'mail', 'postfix'));
    expect((onNixos as Error).message).toMatch(/lab\.guest.*use --guest debian/);
    expect(() => requireCapability(config('qemu', 'debian'), 'nspawn', 'x', 'y')).not.toThrow();
  });

  it('the guest fits the tier, and --host picks the tier\'s own guest', () => {
    expect(defaultGuestOf('vagrant')).toBe('nixos');
    expect(defaultGuestOf('qemu')).toBe('debian');
    expect(defaultGuestOf('nope')).toBeUndefined();
    expect((thrown(() => checkTierConfig(config('netns', 'nixos'))) as Error).message).toMatch(/lab\.guest.*no guest OS/);
    expect((thrown(() => checkTierConfig(config('vagrant', 'debian'))) as Error).message).toMatch(/lab\.guest.*NixOS box/);
    expect(() => checkTierConfig(config('qemu', 'nixos'))).not.toThrow();
  });
});
