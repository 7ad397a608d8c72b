/**
 * Before `lab up --host vagrant` creates anything: is there vagrant, the provider's plugin, a
 * NixOS box, and an ARM machine? Every missing piece is named with how to get it, together, in
 * one HostError. The decision is pure (vagrantProblems); gathering the facts runs vagrant.
 */
import { HostError } from '../../errors.ts';
import { run } from '../../exec.ts';
import { nativeArch } from '../../topology/config.ts';
import { parseBoxList, parsePluginList, vagrantArgv, VAGRANT_PROVIDERS, type VagrantChoice, type VagrantProvider } from './vagrantPlan.ts';

export const VAGRANT_PLUGIN: Record<VagrantProvider, string> = { libvirt: 'vagrant-libvirt', qemu: 'vagrant-qemu' };

export interface VagrantFacts {
  /** `vagrant --version`, or undefined when vagrant is not there. */
  vagrant: string | undefined;
  plugins: string[];
  boxes: Array<{ name: string; provider: string; version: string }>;
  env: { box?: string; provider?: string };
  arch: 'x86_64' | 'aarch64';
}

export interface Missing {
  missing: string;
  fix: string;
}

const PLUGIN_FIX: Record<VagrantProvider, string> = {
  libvirt: 'apt-get install vagrant-libvirt (Debian/Ubuntu; libvirtd running), or on NixOS virtualisation.libvirtd.enable = true and `vagrant plugin install vagrant-libvirt`',
  qemu: '`vagrant plugin install vagrant-qemu`',
};

export function vagrantProblems(f: VagrantFacts): Missing[] {
  const problems: Missing[] = [];
  if (f.arch !== 'aarch64') {
    problems.push({
      missing: `an ARM machine: this one is ${f.arch}, the VM is aarch64 (web-arm's architecture) and the lab's container image is built for this machine's architecture only`,
      fix: 'run the vagrant tier on an ARM machine (an ARM dev machine or ARM runner); here, use --host qemu',
    });
  }
  if (!f.vagrant) {
    problems.push({ missing: 'vagrant (not on PATH)', fix: 'apt-get install vagrant (Debian/Ubuntu), or on NixOS environment.systemPackages = [ pkgs.vagrant ]' });
  }
  const provider = f.env.provider;
  const known = provider && (VAGRANT_PROVIDERS as readonly string[]).includes(provider) ? (provider as VagrantProvider) : undefined;
  if (!known) {
    problems.push({
      missing: provider ? `a known provider: V6LAB_VAGRANT_PROVIDER is "${provider}"` : 'a provider: V6LAB_VAGRANT_PROVIDER is not set',
      fix: `export V6LAB_VAGRANT_PROVIDER=libvirt (plugin vagrant-libvirt) or qemu (plugin vagrant-qemu)`,
    });
  } else if (f.vagrant && !f.plugins.includes(VAGRANT_PLUGIN[known])) {
    problems.push({ missing: `the ${VAGRANT_PLUGIN[known]} plugin (for V6LAB_VAGRANT_PROVIDER=${known})`, fix: PLUGIN_FIX[known] });
  }
  const boxFix =
    'build a NixOS aarch64 image (e.g. nixos-generators -f qcow-efi --system aarch64-linux), wrap it as a box for your provider ' +
    '(README, "Running on NixOS"), `vagrant box add --name nixos-aarch64 nixos-aarch64.box`, then export V6LAB_VAGRANT_BOX=nixos-aarch64';
  if (!f.env.box) {
    problems.push({ missing: 'a NixOS box: V6LAB_VAGRANT_BOX is not set', fix: boxFix });
  } else if (f.vagrant) {
    const boxes = f.boxes.filter((b) => b.name === f.env.box);
    const usable = boxes.filter((b) => !known || b.provider === known);
    if (!usable.length) {
      const have = boxes.length ? ` (it is there for ${boxes.map((b) => b.provider).join(', ')})` : f.boxes.length ? ` (installed: ${[...new Set(f.boxes.map((b) => b.name))].join(', ')})` : ' (no box is installed)';
      problems.push({ missing: `the NixOS box "${f.env.box}"${known ? ` for the ${known} provider` : ''}${have}`, fix: boxFix });
    }
  }
  return problems;
}

/** The box and provider to use, or a HostError naming everything that is missing. */
export function checkVagrant(f: VagrantFacts): VagrantChoice {
  const problems = vagrantProblems(f);
  if (problems.length) {
    throw new HostError(
      `The vagrant tier cannot run on this machine (nothing was created):\n${problems.map((p) => `- missing ${p.missing}. Fix: ${p.fix}`).join('\n')}`,
    );
  }
  return { box: f.env.box!, provider: f.env.provider as VagrantProvider };
}

export async function gatherVagrantFacts(env: NodeJS.ProcessEnv = process.env): Promise<VagrantFacts> {
  const tryRun = async (argv: string[]) => {
    try {
      const r = await run(argv, { allowFailure: true, timeoutMs: 120_000, env: { VAGRANT_CHECKPOINT_DISABLE: '1' } });
      return r.exitCode === 0 ? r.stdout : undefined;
    } catch {
      return undefined;
    }
  };
  const version = (await tryRun(vagrantArgv.version()))?.trim();
  return {
    vagrant: version || undefined,
    plugins: version ? parsePluginList((await tryRun(vagrantArgv.pluginList())) ?? '') : [],
    boxes: version ? parseBoxList((await tryRun(vagrantArgv.boxList())) ?? '') : [],
    env: { box: env.V6LAB_VAGRANT_BOX || undefined, provider: env.V6LAB_VAGRANT_PROVIDER || undefined },
    arch: nativeArch(),
  };
}
