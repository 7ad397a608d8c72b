/**
 * The vagrant tier's names, environment and command lines. Pure.
 *
 * web-arm is a NixOS VM made by the top-level Vagrantfile. Its uplink reaches the upstream
 * router through an L2-only bridge the lab makes in the machine's namespace (no address,
 * IPv6 off, no route, no NAT), joined by a veth to the router's port to web-arm; the VM's NIC
 * is a port of that bridge (libvirt: a bridge interface; qemu: a tap the lab puts on it).
 * Every command runs with the Vagrantfile's directory as VAGRANT_CWD and a per-lab
 * VAGRANT_DOTFILE_PATH, so labs do not share a machine.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LabPlan } from '../../topology/plan.ts';

export const VAGRANT_PROVIDERS = ['libvirt', 'qemu'] as const;
export type VagrantProvider = (typeof VAGRANT_PROVIDERS)[number];

/** The Vagrantfile's machine name. */
export const VAGRANT_MACHINE = 'web-arm';
/** The module the Vagrantfile's configuration.nix imports (it imports the design's module). */
export { VM_MODULE_FILE } from '../../nixos/vmModule.ts';

/** Where the Vagrantfile is: the repository's top level. */
export const VAGRANTFILE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface VagrantNames {
  /** The bridge in the machine's namespace the VM's NIC is a port of. */
  bridge: string;
  /** The veth end on that bridge; its peer is the router's port to web-arm. */
  bridgePort: string;
  /** The tap the lab makes for the qemu provider (on the bridge). */
  tap: string;
  /** Vagrant's state of this lab's machine. */
  dotfilePath: string;
  /** The modules the Vagrantfile installs. */
  nixosDir: string;
}

export function vagrantNames(plan: LabPlan): VagrantNames {
  return {
    bridge: `${plan.linkPrefix}vb`,
    bridgePort: `${plan.linkPrefix}vu`,
    tap: `${plan.linkPrefix}vt`,
    dotfilePath: join(plan.stateDir, 'vagrant'),
    nixosDir: join(plan.stateDir, 'nixos'),
  };
}

/** What the user chose for the tier (environment variables, as the Vagrantfile reads them). */
export interface VagrantChoice {
  box: string;
  provider: VagrantProvider;
}

export interface VagrantEnvOptions {
  /** The node image to import into the VM's podman (lab up; not needed to redeploy). */
  image?: { tag: string; tarball: string };
}

/** The link the Vagrantfile attaches web-arm's NIC to: the bridge (libvirt) or the lab's tap (qemu). */
export function vagrantLink(names: VagrantNames, provider: VagrantProvider): string {
  return provider === 'libvirt' ? names.bridge : names.tap;
}

/** The environment of every vagrant command of a lab. */
export function vagrantEnv(plan: LabPlan, choice: VagrantChoice, options: VagrantEnvOptions = {}): Record<string, string> {
  const names = vagrantNames(plan);
  return {
    VAGRANT_CWD: VAGRANTFILE_DIR,
    VAGRANT_DOTFILE_PATH: names.dotfilePath,
    V6LAB_VAGRANT_BOX: choice.box,
    V6LAB_VAGRANT_PROVIDER: choice.provider,
    V6LAB_VAGRANT_LINK: vagrantLink(names, choice.provider),
    V6LAB_NIXOS_DIR: names.nixosDir,
    V6LAB_WEBARM_MAC: plan.config.webArm.mac,
    V6LAB_NODE_IMAGE_TAR: options.image?.tarball ?? '',
    V6LAB_NODE_IMAGE_TAG: options.image?.tag ?? '',
  };
}

/** POSIX shell quoting of one word. */
function sh(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

export const vagrantArgv = {
  up: (provider: VagrantProvider) => ['vagrant', 'up', VAGRANT_MACHINE, `--provider=${provider}`, '--provision'],
  /** The lab's redeploy: the Vagrantfile's provisioners again (modules copied, nixos-rebuild switch). */
  provision: () => ['vagrant', 'provision', VAGRANT_MACHINE],
  /** The lab's reboot: the VM is shut down and booted again (without provisioning). */
  reload: () => ['vagrant', 'reload', VAGRANT_MACHINE, '--no-provision'],
  destroy: () => ['vagrant', 'destroy', '--force', VAGRANT_MACHINE],
  status: () => ['vagrant', 'status', VAGRANT_MACHINE, '--machine-readable'],
  /** A command as root in the VM: `vagrant ssh -c` runs it in the login shell of the box's user. */
  ssh: (command: string) => ['vagrant', 'ssh', VAGRANT_MACHINE, '--no-tty', '--command', `sudo sh -c ${sh(command)}`],
  /** An interactive root shell in the VM. */
  shell: () => ['vagrant', 'ssh', VAGRANT_MACHINE, '--', '-t', 'sudo -i'],
  /** `--ignore-provider`: the providers' own checks need a running libvirtd or QEMU plugin. */
  validate: () => ['vagrant', 'validate', '--ignore-provider'],
  version: () => ['vagrant', '--version'],
  boxList: () => ['vagrant', 'box', 'list', '--machine-readable'],
  pluginList: () => ['vagrant', 'plugin', 'list', '--machine-readable'],
};

/** Rows of Vagrant's --machine-readable output: timestamp,target,type,data… (data with %!(VAGRANT_COMMA)). */
export function parseMachineReadable(out: string): Array<{ target: string; type: string; data: string[] }> {
  return out
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const [, target = '', type = '', ...data] = line.split(',');
      return { target, type, data: data.map((d) => d.replaceAll('%!(VAGRANT_COMMA)', ',').replaceAll('\\n', '\n')) };
    });
}

/** Boxes from `vagrant box list --machine-readable`: name with its provider and version. */
export function parseBoxList(out: string): Array<{ name: string; provider: string; version: string }> {
  const boxes: Array<{ name: string; provider: string; version: string }> = [];
  for (const row of parseMachineReadable(out)) {
    if (row.type === 'box-name') boxes.push({ name: row.data[0] ?? '', provider: '', version: '' });
    else if (row.type === 'box-provider' && boxes.length) boxes.at(-1)!.provider = row.data[0] ?? '';
    else if (row.type === 'box-version' && boxes.length) boxes.at(-1)!.version = row.data[0] ?? '';
  }
  return boxes;
}

/** Plugin names from `vagrant plugin list --machine-readable`. */
export function parsePluginList(out: string): string[] {
  return parseMachineReadable(out)
    .filter((r) => r.type === 'plugin-name')
    .map((r) => r.data[0] ?? '');
}

/** The machine's state from `vagrant status --machine-readable` ("running", "not_created", …). */
export function parseMachineState(out: string): string | undefined {
  return parseMachineReadable(out).find((r) => r.type === 'state' && r.target === VAGRANT_MACHINE)?.data[0];
}
