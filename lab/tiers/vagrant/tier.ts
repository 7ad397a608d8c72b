/**
 * The vagrant tier: web-arm is a NixOS VM made by Vagrant (libvirt or qemu provider) from a
 * NixOS box, provisioned with the lab's module by `nixos-rebuild switch`; its NIC is a port of a
 * lab bridge joined to the router; `vagrant reload` is its real reboot. Needs vagrant, a
 * provider plugin and a NixOS box (checked before anything is created).
 */
import { installBaseSystem } from '../../lifecycle/apply.ts';
import type { Tier } from '../tier.ts';
import { vagrantCapabilities } from './capabilities.ts';
import { checkVagrant, gatherVagrantFacts } from './preflight.ts';
import type { VagrantChoice } from './vagrantPlan.ts';
import { bootVagrant, destroyVagrant } from './vagrantPower.ts';
import { vagrantChoiceOf, vagrantWebArm } from './vagrantSystem.ts';

export const vagrantTier: Tier<VagrantChoice> = {
  name: 'vagrant',
  summary: 'a NixOS VM made by Vagrant and provisioned with the production module (where a NixOS box exists)',
  capabilities: vagrantCapabilities,
  webArmArch: (_config, hostArch) => hostArch,
  prerequisites: async () => checkVagrant(await gatherVagrantFacts()),
  async start({ plan, prerequisites: choice, image, progress, record }) {
    record({ vagrant: choice });
    // `vagrant up` provisions production before the change (nixos-rebuild switch); recorded as the baseline.
    const boot = await bootVagrant(plan, choice, image, progress);
    progress.note(`web-arm (Vagrant, ${choice.provider}) up in ${Math.round(boot.bootToReadyMs / 1000)} s`);
    const webArm = vagrantWebArm(plan, choice, image.tag);
    await installBaseSystem(webArm, plan.config, image.tag, progress, { startUnits: false });
    return webArm;
  },
  attach: (plan, state) => vagrantWebArm(plan, vagrantChoiceOf(plan, state.vagrant), state.image?.tag ?? ''),
  async destroy(plan, state) {
    await destroyVagrant(plan, state?.vagrant);
    return [];
  },
};
