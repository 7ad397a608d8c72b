/**
 * web-arm's service manager on the vagrant tier: NixOS's own. A switch renders the NixOS
 * modules from the lab config (the same design data the units given to it come from), copies
 * them into the VM and runs `nixos-rebuild switch` there, which is what `vagrant provision`
 * does with the Vagrantfile; it then reports which of the given units did not come up.
 * Single units are started, stopped and restarted with systemctl over `vagrant ssh`.
 */
import { LabStateError } from '../../errors.ts';
import { run } from '../../exec.ts';
import { vmModuleFiles } from '../../nixos/vmModule.ts';
import { nixosSwitchedWebArm } from '../nixosSwitch.ts';
import { realSystemMachine } from '../systemctl.ts';
import type { WebArm } from '../tier.ts';
import { vagrantCapabilities } from './capabilities.ts';
import { rebootVagrant } from './vagrantPower.ts';
import { existsSync } from 'node:fs';
import type { LabPlan } from '../../topology/plan.ts';
import { withVagrantEnv, vagrantMachine } from './vagrantMachine.ts';
import { vagrantArgv, vagrantEnv, vagrantNames, VAGRANT_PROVIDERS, type VagrantChoice, type VagrantProvider } from './vagrantPlan.ts';

/** nixos-rebuild switch on a small VM, downloads included. */
const PROVISION_TIMEOUT_MS = 45 * 60_000;

/** The box and provider of a lab's VM: recorded by lab up, else the environment (as the Vagrantfile reads it). */
export function vagrantChoiceOf(plan: LabPlan, recorded: VagrantChoice | undefined, env: NodeJS.ProcessEnv = process.env): VagrantChoice {
  if (recorded) return recorded;
  const provider = env.V6LAB_VAGRANT_PROVIDER;
  if (env.V6LAB_VAGRANT_BOX && provider && (VAGRANT_PROVIDERS as readonly string[]).includes(provider)) {
    return { box: env.V6LAB_VAGRANT_BOX, provider: provider as VagrantProvider };
  }
  throw new LabStateError(`lab "${plan.name}" has no recorded Vagrant box and provider. Fix: set V6LAB_VAGRANT_BOX and V6LAB_VAGRANT_PROVIDER as for lab up.`);
}

/** web-arm on the vagrant tier as a started WebArm (the VM made with `choice`, its containers from `imageTag`). */
export function vagrantWebArm(plan: LabPlan, choice: VagrantChoice, imageTag: string): WebArm {
  const machine = realSystemMachine(vagrantMachine(plan, choice), 'vagrant reload', (progress) => rebootVagrant(plan, choice, progress));
  const names = vagrantNames(plan);
  return nixosSwitchedWebArm({
    tier: 'vagrant',
    plan,
    machine,
    capabilities: vagrantCapabilities(plan.config),
    imageTag,
    modulesDir: names.nixosDir,
    modules: (withDesign) => vmModuleFiles(plan.config, imageTag, withDesign),
    activate: (progress) =>
      progress
        .step('vagrant provision (modules copied, nixos-rebuild switch)', () => run(withVagrantEnv(vagrantEnv(plan, choice), vagrantArgv.provision()), { timeoutMs: PROVISION_TIMEOUT_MS }))
        .then(() => undefined),
    whereabouts: () => ({
      kind: 'vagrant',
      // A Vagrant VM: its NIC is a port of the lab's bridge, joined to the router's port.
      where: `bridge ${names.bridge} (router port ${plan.upstream.toWebArmIf})`,
      present: existsSync(names.dotfilePath),
    }),
  });
}
