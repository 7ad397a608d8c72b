/**
 * The vagrant tier's pure parts: names, environment, command lines, Vagrant's machine-readable
 * output, the uplink's links, and the check before lab up. The tier itself cannot run here
 * (no NixOS box, an x86-64 machine): lab up says so before creating anything.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HostError, LabStateError } from '../../lab/errors.ts';
import { nixosLayout } from '../../lab/nixos/module.ts';
import { getTier } from '../../lab/tiers/registry.ts';
import { hasShell } from '../../lab/nodes/machine.ts';
import type { LabState } from '../../lab/state/store.ts';
import { defaultConfig, type LabConfig } from '../../lab/topology/config.ts';
import { planLab } from '../../lab/topology/plan.ts';
import { checkVagrant, vagrantProblems, type VagrantFacts } from '../../lab/tiers/vagrant/preflight.ts';
import { vagrantLinkArgvs, vagrantRootLinks } from '../../lab/tiers/vagrant/vagrantLinks.ts';
import { vagrantMachine, withVagrantEnv } from '../../lab/tiers/vagrant/vagrantMachine.ts';
import {
  parseBoxList,
  parseMachineState,
  parsePluginList,
  VAGRANTFILE_DIR,
  vagrantArgv,
  vagrantEnv,
  vagrantLink,
  vagrantNames,
} from '../../lab/tiers/vagrant/vagrantPlan.ts';
import { vagrantChoiceOf } from '../../lab/tiers/vagrant/vagrantSystem.ts';
import { thrown } from './helpers/golden.ts';

function vagrantConfig(): LabConfig {
  const config = defaultConfig();
  config.lab = { ...config.lab, name: 'vg1', tier: 'vagrant', guest: 'nixos', stateDir: '/srv/labs/vg1' };
  return config;
}
const plan = planLab(vagrantConfig());
const names = vagrantNames(plan);

describe('names and environment', () => {
  it("marks the machine-namespace links with the lab's prefix and keeps them within 15 characters", () => {
    for (const provider of ['libvirt', 'qemu'] as const) {
      for (const link of vagrantRootLinks(names, provider)) {
        expect(link.startsWith(plan.linkPrefix), link).toBe(true);
        expect(link.length, link).toBeLessThanOrEqual(15);
      }
    }
    expect(vagrantLink(names, 'libvirt')).toBe(names.bridge);
    expect(vagrantLink(names, 'qemu')).toBe(names.tap);
  });

  it('keeps Vagrant state and the modules in the lab state directory', () => {
    expect(names.dotfilePath).toBe('/srv/labs/vg1/vagrant');
    expect(names.nixosDir).toBe('/srv/labs/vg1/nixos');
  });

  it('gives the Vagrantfile everything it reads', () => {
    expect(vagrantEnv(plan, { box: 'nixos-aarch64', provider: 'qemu' }, { image: { tag: 'localhost/v6lab-node:abc', tarball: '/c/n.tar' } })).toEqual({
      VAGRANT_CWD: VAGRANTFILE_DIR,
      VAGRANT_DOTFILE_PATH: '/srv/labs/vg1/vagrant',
      V6LAB_VAGRANT_BOX: 'nixos-aarch64',
      V6LAB_VAGRANT_PROVIDER: 'qemu',
      V6LAB_VAGRANT_LINK: names.tap,
      V6LAB_NIXOS_DIR: '/srv/labs/vg1/nixos',
      V6LAB_WEBARM_MAC: '96:00:02:c0:12:43',
      V6LAB_NODE_IMAGE_TAR: '/c/n.tar',
      V6LAB_NODE_IMAGE_TAG: 'localhost/v6lab-node:abc',
    });
  });
});

describe('command lines', () => {
  it('up provisions, provision redeploys, reload reboots without provisioning, destroy is forced', () => {
    expect(vagrantArgv.up('libvirt')).toEqual(['vagrant', 'up', 'web-arm', '--provider=libvirt', '--provision']);
    expect(vagrantArgv.provision()).toEqual(['vagrant', 'provision', 'web-arm']);
    expect(vagrantArgv.reload()).toEqual(['vagrant', 'reload', 'web-arm', '--no-provision']);
    expect(vagrantArgv.destroy()).toEqual(['vagrant', 'destroy', '--force', 'web-arm']);
    expect(vagrantArgv.validate()).toEqual(['vagrant', 'validate', '--ignore-provider']);
  });

  it('runs a command as root through vagrant ssh, quoted for the remote shell', () => {
    expect(vagrantArgv.ssh("echo 'a b' && id -u")).toEqual(['vagrant', 'ssh', 'web-arm', '--no-tty', '--command', `sudo sh -c 'echo '\\''a b'\\'' && id -u'`]);
  });

  it("carries the lab's Vagrant environment in the command line of every machine command", () => {
    const machine = vagrantMachine(plan, { box: 'b', provider: 'libvirt' });
    const argv = machine.argvFor('podman ps');
    expect(argv[0]).toBe('env');
    expect(argv).toContain(`VAGRANT_DOTFILE_PATH=${names.dotfilePath}`);
    expect(argv).toContain(`V6LAB_VAGRANT_LINK=${names.bridge}`);
    expect(argv.slice(-5)).toEqual(['ssh', 'web-arm', '--no-tty', '--command', "sudo sh -c 'podman ps'"]);
    expect(machine.realism).toBe('real');
    expect(withVagrantEnv({ A: '1' }, ['x'])).toEqual(['env', 'A=1', 'x']);
  });
});

describe("Vagrant's machine-readable output", () => {
  it('lists plugins (as this machine prints them)', () => {
    const out = '1795450002,,ui,info,vagrant-libvirt (0.11.2%!(VAGRANT_COMMA) system)\n1795450002,,plugin-name,vagrant-libvirt\n1795450002,vagrant-libvirt,plugin-version,0.11.2%!(VAGRANT_COMMA) system\n';
    expect(parsePluginList(out)).toEqual(['vagrant-libvirt']);
  });

  it('lists boxes with provider and version; none when there are none', () => {
    const out = ['1,,box-name,nixos-aarch64', '1,,box-provider,libvirt', '1,,box-version,0', '2,,box-name,nixos-aarch64', '2,,box-provider,qemu', '2,,box-version,0'].join('\n');
    expect(parseBoxList(out)).toEqual([
      { name: 'nixos-aarch64', provider: 'libvirt', version: '0' },
      { name: 'nixos-aarch64', provider: 'qemu', version: '0' },
    ]);
    expect(parseBoxList('1795450004,,ui,warn,There are no installed boxes! Use `vagrant box add` to add some.\n')).toEqual([]);
  });

  it("reads the machine's state", () => {
    expect(parseMachineState('1,web-arm,provider-name,libvirt\n1,web-arm,state,not_created\n1,web-arm,state-human-short,not created\n')).toBe('not_created');
  });
});

describe("the uplink's links", () => {
  it('a frames-only bridge, the router end of the veth moved into the router as its port to web-arm', () => {
    const argvs = vagrantLinkArgvs(plan, names, 'libvirt').map((a) => a.join(' '));
    expect(argvs[0]).toBe(`ip link add ${names.bridge} type bridge nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0`);
    expect(argvs).toContain(`sysctl -q -w net.ipv6.conf.${names.bridge}.disable_ipv6=1`);
    expect(argvs).toContain(`ip link set dev ${plan.upstream.toWebArmTmp} netns ${plan.upstream.netnsName}`);
    expect(argvs).toContain(`ip -n ${plan.upstream.netnsName} link set dev ${plan.upstream.toWebArmTmp} name web-arm address 02:00:00:00:00:01`);
    expect(argvs).toContain(`ip link set dev ${names.bridgePort} master ${names.bridge} up`);
    expect(argvs.filter((a) => a.includes('tuntap'))).toEqual([]);
    expect(argvs.at(-1)).toBe(`ip link set dev ${names.bridge} up`);
    // Nothing routes or translates in the machine's namespace: no address, route or rule.
    expect(argvs.filter((a) => / addr | route | nft | iptables/.test(` ${a} `))).toEqual([]);
  });

  it("marks every link it makes in the machine's namespace", () => {
    const argvs = vagrantLinkArgvs(plan, names, 'qemu').map((a) => a.join(' '));
    for (const link of [names.bridge, names.bridgePort, names.tap, plan.upstream.toWebArmTmp]) expect(argvs).toContain(`ip link set dev ${link} alias v6lab:vg1`);
    expect(argvs).toContain(`ip tuntap add dev ${names.tap} mode tap`);
    expect(argvs).toContain(`ip link set dev ${names.tap} master ${names.bridge} up`);
  });
});

const READY: VagrantFacts = {
  vagrant: 'Vagrant 2.4.1',
  plugins: ['vagrant-libvirt'],
  boxes: [{ name: 'nixos-aarch64', provider: 'libvirt', version: '0' }],
  env: { box: 'nixos-aarch64', provider: 'libvirt' },
  arch: 'aarch64',
};

describe('before lab up --host vagrant', () => {
  it('passes with vagrant, the provider plugin and a NixOS box on an ARM machine', () => {
    expect(vagrantProblems(READY)).toEqual([]);
    expect(checkVagrant(READY)).toEqual({ box: 'nixos-aarch64', provider: 'libvirt' });
  });

  it('names everything that is missing here, with how to get it, in one HostError', () => {
    const here: VagrantFacts = { vagrant: 'Vagrant 2.3.4', plugins: ['vagrant-libvirt'], boxes: [], env: {}, arch: 'x86_64' };
    const error = thrown(() => checkVagrant(here)) as HostError;
    expect(error).toBeInstanceOf(HostError);
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/nothing was created/);
    expect(error.message).toMatch(/missing an ARM machine: this one is x86_64.*Fix: run the vagrant tier on an ARM machine/);
    expect(error.message).toMatch(/V6LAB_VAGRANT_PROVIDER is not set\. Fix: export V6LAB_VAGRANT_PROVIDER=libvirt/);
    expect(error.message).toMatch(/V6LAB_VAGRANT_BOX is not set\. Fix: build a NixOS aarch64 image .*vagrant box add/);
  });

  it('says when vagrant, the plugin or the box is absent', () => {
    const problems = (f: Partial<VagrantFacts>) => vagrantProblems({ ...READY, ...f }).map((p) => p.missing);
    expect(problems({ vagrant: undefined })).toEqual(['vagrant (not on PATH)']);
    expect(problems({ env: { box: 'nixos-aarch64', provider: 'qemu' } })).toEqual([
      'the vagrant-qemu plugin (for V6LAB_VAGRANT_PROVIDER=qemu)',
      'the NixOS box "nixos-aarch64" for the qemu provider (it is there for libvirt)',
    ]);
    expect(problems({ env: { box: 'other', provider: 'libvirt' } })).toEqual(['the NixOS box "other" for the libvirt provider (installed: nixos-aarch64)']);
    expect(problems({ env: { box: 'nixos-aarch64', provider: 'virtualbox' } })).toEqual(['a known provider: V6LAB_VAGRANT_PROVIDER is "virtualbox"']);
  });
});

describe('web-arm on the vagrant tier', () => {
  const saved = { box: process.env.V6LAB_VAGRANT_BOX, provider: process.env.V6LAB_VAGRANT_PROVIDER };
  afterEach(() => {
    for (const [k, v] of [['V6LAB_VAGRANT_BOX', saved.box], ['V6LAB_VAGRANT_PROVIDER', saved.provider]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('takes the box and provider from the environment when the lab has none recorded', () => {
    expect(vagrantChoiceOf(plan, undefined, { V6LAB_VAGRANT_BOX: 'nixos-aarch64', V6LAB_VAGRANT_PROVIDER: 'qemu' })).toEqual({ box: 'nixos-aarch64', provider: 'qemu' });
    expect(thrown(() => vagrantChoiceOf(plan, undefined, {}))).toBeInstanceOf(LabStateError);
  });

  it('is a NixOS system behind the same WebArm interface, its machine reached by vagrant ssh, its capabilities its own', () => {
    process.env.V6LAB_VAGRANT_BOX = 'nixos-aarch64';
    process.env.V6LAB_VAGRANT_PROVIDER = 'libvirt';
    const state = { image: { tag: 'img', tarball: '' } } as unknown as LabState;
    const system = getTier('vagrant').attach(plan, state);
    expect(system.tier).toBe('vagrant');
    expect(system.capabilities.realSystemd && system.capabilities.realReboot).toBe(true);
    expect(system.capabilities.dockerd).toBe(false);
    expect(hasShell(system.machine)).toBe(true);
    expect(system.layout('img')).toEqual(nixosLayout('img'));
  });
});
