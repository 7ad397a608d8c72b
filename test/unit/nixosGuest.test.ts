/**
 * The qemu tier's NixOS guest (`--host qemu --guest nixos`), its pure parts: the flake and
 * module it is built from, the command lines that build, run and switch it, the shared switch
 * bookkeeping, and the check before lab up. Building it needs nix with a nixpkgs, which this
 * machine lacks (Debian's nix-bin has none): lab up says so before creating anything.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planDesign } from '../../lab/designs/registry.ts';
import { renderSystem } from '../../lab/designs/system.ts';
import { HostError } from '../../lab/errors.ts';
import { nixosLayout } from '../../lab/nixos/module.ts';
import { evalNixJson, hasNixInstantiate, parseNixText } from '../../lab/nixos/nixInstantiate.ts';
import { includesDesign, unitChanges, unitsToCheck, writeModules } from '../../lab/nixos/nixosSwitch.ts';
import { checkNix, nixProblems, type NixFacts } from '../../lab/tiers/qemu/nixos/preflight.ts';
import {
  builtPath,
  GUEST_MODULE_FILE,
  guestContainerUnits,
  guestFlakeFiles,
  guestRunArgv,
  guestRunEnv,
  guestSwitchCommand,
  nixBuildArgv,
  renderGuestFlake,
  renderQemuGuestModule,
  TOPLEVEL_ATTRIBUTE,
  VM_ATTRIBUTE,
} from '../../lab/tiers/qemu/nixos/qemuGuest.ts';
import { defaultConfig } from '../../lab/topology/config.ts';
import { planLab } from '../../lab/topology/plan.ts';
import { expectGolden, thrown, titleOrSkipReason } from './helpers/golden.ts';

const IMAGE = 'localhost/v6lab-node:0123456789ab';
const NIXPKGS = { flakeRef: 'github:NixOS/nixpkgs/nixos-24.11', from: 'V6LAB_NIXPKGS' as const };
const config = defaultConfig();
config.lab = { ...config.lab, tier: 'qemu', guest: 'nixos', arch: 'aarch64' };

describe('the guest flake and module', () => {
  it('builds web-arm for the lab arch from the chosen nixpkgs (golden)', () => {
    expectGolden('nixos-guest-flake.nix', renderGuestFlake(NIXPKGS, 'aarch64'));
  });

  it('imports the VM module, runs the agent, imports the node image before every container (golden)', () => {
    expectGolden('nixos-guest-module.nix', renderQemuGuestModule(config, IMAGE, true));
  });

  it('knows the containers with and without the design', () => {
    expect(guestContainerUnits(config, false)).toEqual(['podman-collabora.service', 'podman-rustdesk-server.service']);
    expect(guestContainerUnits(config, true)).toEqual(['podman-collabora.service', 'podman-rustdesk-server.service', 'podman-v6probe.service']);
  });

  it('has every file of the flake directory; the VM module without a management NIC', () => {
    const files = guestFlakeFiles(config, NIXPKGS, IMAGE, true);
    expect(Object.keys(files).sort()).toEqual(['flake.nix', GUEST_MODULE_FILE, 'v6egress.nix', 'web-arm-vm.nix']);
    expect(files['web-arm-vm.nix']).not.toContain('vagrant0');
    expect(files['web-arm-vm.nix']).toContain('  imports = [ ./v6egress.nix ];');
    expect(Object.keys(guestFlakeFiles(config, NIXPKGS, IMAGE, false))).not.toContain('v6egress.nix');
  });
});

describe('command lines', () => {
  it('builds the VM runner and the system with flakes on', () => {
    expect(nixBuildArgv('/s/nixos-guest', VM_ATTRIBUTE)).toEqual([
      'nix', '--extra-experimental-features', 'nix-command flakes', 'build', '--no-link', '--json',
      'path:/s/nixos-guest#nixosConfigurations.web-arm.config.system.build.vm',
    ]);
    expect(TOPLEVEL_ATTRIBUTE).toBe('nixosConfigurations.web-arm.config.virtualisation.vmVariant.system.build.toplevel');
    expect(builtPath('[{"drvPath":"/nix/store/x.drv","outputs":{"out":"/nix/store/abc-nixos-vm"}}]')).toBe('/nix/store/abc-nixos-vm');
    expect(() => builtPath('[]')).toThrow(/no output path/);
  });

  it("runs the VM with the router's tap as its only NIC, the agent socket and the lab's mark", () => {
    const spec = { vm: '/nix/store/abc-nixos-vm', runDir: '/run/v6lab/q/qemu/web-arm', tap: 'web-arm', mac: '96:00:02:c0:12:43', agentSocket: '/run/v6lab/q/qemu/web-arm/qga.sock', processMark: 'v6lab-q-web-arm' };
    const env = guestRunEnv(spec);
    expect(env.NIX_DISK_IMAGE).toBe('/run/v6lab/q/qemu/web-arm/web-arm.qcow2');
    expect(env.TMPDIR).toBe(spec.runDir);
    expect(env.QEMU_OPTS).toContain('-netdev tap,id=uplink,ifname=web-arm,script=no,downscript=no -device virtio-net-pci,netdev=uplink,mac=96:00:02:c0:12:43');
    expect(env.QEMU_OPTS).toContain('-chardev socket,id=qga0,path=/run/v6lab/q/qemu/web-arm/qga.sock,server=on,wait=off');
    expect(env.QEMU_OPTS).toContain('name=org.qemu.guest_agent.0');
    expect(env.QEMU_OPTS).toContain('-name web-arm,process=v6lab-q-web-arm');
    expect(guestRunArgv(spec).at(-1)).toBe('/nix/store/abc-nixos-vm/bin/run-web-arm-vm');
  });

  it('switches in the guest: registers the closure, sets the system profile (the boot entry), activates', () => {
    expect(guestSwitchCommand('/nix/store/t-nixos-system')).toBe(
      'nix-store --load-db < /tmp/xchg/v6lab-registration && nix-env --profile /nix/var/nix/profiles/system --set /nix/store/t-nixos-system && /nix/store/t-nixos-system/bin/switch-to-configuration switch',
    );
  });
});

describe('switch bookkeeping (vagrant VM and NixOS guest)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'v6lab-nixos-switch-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const plan = planLab(config);
  const layout = nixosLayout(IMAGE);
  const base = renderSystem(config, layout).units;
  const applied = renderSystem(config, layout, planDesign(config, layout)).units;

  it("tells whether the design's units are asked for", () => {
    expect(includesDesign(plan, base, IMAGE)).toBe(false);
    expect(includesDesign(plan, applied, IMAGE)).toBe(true);
  });

  it("checks the units NixOS must have up, not podman's socket-activated service", () => {
    expect(unitsToCheck(applied)).toEqual(['firewall.service', 'podman-collabora.service', 'podman-rustdesk-server.service', 'v6egress-network.service', 'podman-v6probe.service']);
  });

  it('records each switch: the design adds its units; switching again changes nothing', () => {
    const first = unitChanges(dir, base);
    expect(first.plan.added.length).toBe(base.length);
    first.save();
    const apply = unitChanges(dir, applied);
    expect(apply.plan.added).toEqual(['podman-v6probe.service', 'v6egress-network.service']);
    expect(apply.plan.changed).toEqual([]);
    apply.save();
    expect(unitChanges(dir, applied).plan.unchanged.length).toBe(applied.length);
  });

  it('replaces the modules of a directory, leaving other files', () => {
    writeFileSync(join(dir, 'old.nix'), '{}');
    writeModules(dir, { 'web-arm-vm.nix': '{ }\n' });
    expect(readdirSync(dir).sort()).toEqual(['units.json', 'web-arm-vm.nix']);
  });
});

const READY: NixFacts = { nix: 'nix (Nix) 2.24.10', store: { ok: true }, nixpkgsRef: undefined, nixpkgsPath: '/nix/var/nix/profiles/per-user/root/channels/nixpkgs' };

describe('before lab up --host qemu --guest nixos', () => {
  it('passes with nix, a usable store and a nixpkgs (a channel, or V6LAB_NIXPKGS first)', () => {
    expect(checkNix(READY)).toEqual({ flakeRef: 'path:/nix/var/nix/profiles/per-user/root/channels/nixpkgs', from: 'NIX_PATH' });
    expect(checkNix({ ...READY, nixpkgsRef: 'github:NixOS/nixpkgs/nixos-24.11' })).toEqual({ flakeRef: 'github:NixOS/nixpkgs/nixos-24.11', from: 'V6LAB_NIXPKGS' });
  });

  it("says nixpkgs is missing as here (Debian's nix-bin), and how to get it", () => {
    const here: NixFacts = { nix: 'nix (Nix) 2.8.0', store: { ok: true }, nixpkgsRef: undefined, nixpkgsPath: undefined };
    const error = thrown(() => checkNix(here)) as HostError;
    expect(error).toBeInstanceOf(HostError);
    expect(error.message).toMatch(/nothing was created/);
    expect(error.message).toMatch(/missing nixpkgs: .*Debian's nix-bin comes without one.*Fix: export V6LAB_NIXPKGS=github:NixOS\/nixpkgs\/nixos-25\.11.*nix-channel --add/);
  });

  it('says when nix is absent or its store unusable', () => {
    expect(nixProblems({ ...READY, nix: undefined }).map((p) => p.missing)).toEqual(['nix (not on PATH)']);
    expect(nixProblems({ ...READY, store: { ok: false, error: 'cannot connect to socket' } }).map((p) => p.missing)).toEqual(['a usable Nix store (nix store ping: cannot connect to socket)']);
  });
});

const nix = await hasNixInstantiate();

describe.skipIf(!nix)(titleOrSkipReason('nix-instantiate reads the guest flake and module', nix, 'nix-instantiate is not installed; apt-get install nix-bin'), () => {
  it('parses both, and the flake names its nixpkgs', async () => {
    const flake = renderGuestFlake(NIXPKGS, 'aarch64');
    await parseNixText(flake);
    await parseNixText(renderQemuGuestModule(config, IMAGE, true));
    expect(await evalNixJson(flake, (file) => `(import ${file}).inputs.nixpkgs.url`)).toBe(NIXPKGS.flakeRef);
  });
});
