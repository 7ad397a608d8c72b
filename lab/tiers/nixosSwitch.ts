/**
 * A web-arm whose system NixOS switches (the qemu tier's NixOS guest, the vagrant tier's VM):
 * a switch writes the modules rendered from the lab's config, installs without activating
 * when the machine already runs them (it booted with them), or has the tier activate them
 * (nix build + switch-to-configuration, or `vagrant provision`) and reports which of the
 * given units did not come up. Units start, stop and restart with systemctl.
 */
import { nixosLayout } from '../nixos/module.ts';
import { includesDesign, unitChanges, unitsToCheck, writeModules } from '../nixos/nixosSwitch.ts';
import type { SystemMachine } from '../nodes/machine.ts';
import type { Progress } from '../progress.ts';
import type { LabPlan } from '../topology/plan.ts';
import { failuresOf, systemctlUnitVerbs } from './systemctl.ts';
import { journalLogs } from './journalLogs.ts';
import type { Capabilities, ConsoleAbility, TierName, WebArm, WebArmWhereabouts } from './tier.ts';

export interface NixosSwitched {
  tier: TierName;
  plan: LabPlan;
  machine: SystemMachine;
  capabilities: Capabilities;
  imageTag: string;
  /** Where the modules go, and what they are (with or without the design). */
  modulesDir: string;
  modules(withDesign: boolean): Record<string, string>;
  /** Makes the machine run the modules just written (called after the startLast hooks). */
  activate(progress: Progress): Promise<void>;
  whereabouts(): WebArmWhereabouts;
  /** Its serial console, where the tier has one (the qemu tier's VM). */
  console?: ConsoleAbility;
}

export function nixosSwitchedWebArm(n: NixosSwitched): WebArm {
  const { plan, machine, imageTag } = n;
  return {
    tier: n.tier,
    machine,
    capabilities: n.capabilities,
    layout: (image) => nixosLayout(image),
    // The Debian-shaped files (firewall rules, sysctl.d) have NixOS equivalents in the modules.
    extraFiles: () => ({}),
    async switch(units, _files, progress, options = {}) {
      writeModules(n.modulesDir, n.modules(includesDesign(plan, units, imageTag)));
      const changes = unitChanges(n.modulesDir, units);
      if (options.start === false) {
        // Installed without a switch: the machine already runs this configuration (it booted with it).
        changes.save();
        return { ...changes.plan, failed: [] };
      }
      // NixOS starts the whole configuration in one switch: what must be seen before a unit starts is seen before it.
      for (const unit of options.startLast ?? []) await options.beforeStart?.(unit);
      await n.activate(progress);
      changes.save();
      return { ...changes.plan, failed: await failuresOf(machine, unitsToCheck(units)) };
    },
    // NixOS sets dockerd in its modules (virtualisation.docker.enable).
    afterBaseInstall: async () => undefined,
    ...systemctlUnitVerbs(machine),
    whereabouts: () => n.whereabouts(),
    logs: journalLogs(machine),
    ...(n.console ? { console: n.console } : {}),
  };
}
