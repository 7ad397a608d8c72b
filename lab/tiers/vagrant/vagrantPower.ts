/**
 * web-arm's power cycle on the vagrant tier: the uplink's links, `vagrant up` (which copies the
 * modules and runs nixos-rebuild switch), `vagrant reload` as the real reboot, `vagrant
 * destroy` and the marked links at down. Needs vagrant, a provider and a NixOS box (checked by
 * preflight.ts before anything is created).
 */
import { existsSync } from 'node:fs';
import { SafetyError } from '../../errors.ts';
import { run, succeed } from '../../exec.ts';
import { listRootLinks } from '../../links/veth.ts';
import { writeModules } from '../../nixos/nixosSwitch.ts';
import { vmModuleFiles } from '../../nixos/vmModule.ts';
import { configureRouterPort } from '../../nodes/wiring.ts';
import type { Progress } from '../../progress.ts';
import type { LabPlan } from '../../topology/plan.ts';
import { vagrantLinkArgvs, vagrantRootLinks } from './vagrantLinks.ts';
import { vagrantMachine, withVagrantEnv } from './vagrantMachine.ts';
import { vagrantArgv, vagrantEnv, vagrantNames, type VagrantChoice } from './vagrantPlan.ts';

const UP_TIMEOUT_MS = 60 * 60_000;
const BOOT_TIMEOUT_MS = 15 * 60_000;

const BOOT_ID = 'cat /proc/sys/kernel/random/boot_id';
const READY = 'systemctl is-active multi-user.target';

export async function bootVagrant(plan: LabPlan, choice: VagrantChoice, image: { tag: string; tarball: string }, progress: Progress): Promise<{ bootToReadyMs: number }> {
  const names = vagrantNames(plan);
  const taken = (await listRootLinks(plan.linkPrefix)).filter((l) => vagrantRootLinks(names, choice.provider).includes(l));
  if (taken.length) {
    throw new SafetyError([`the machine already has ${taken.join(', ')} (a leftover of a crashed lab? run \`pnpm lab down --name ${plan.name}\`)`]);
  }
  await progress.step(`uplink: bridge ${names.bridge} (frames only) joined to the router's port ${plan.upstream.toWebArmIf}`, async () => {
    for (const argv of vagrantLinkArgvs(plan, names, choice.provider)) await succeed(argv);
    await configureRouterPort(plan);
  });
  // Production before the change: the VM's module without the design.
  writeModules(names.nixosDir, vmModuleFiles(plan.config, image.tag, false));
  const started = performance.now();
  await progress.step(`vagrant up (${choice.provider}, box ${choice.box}; nixos-rebuild switch)`, () =>
    run(withVagrantEnv(vagrantEnv(plan, choice, { image }), vagrantArgv.up(choice.provider)), { timeoutMs: UP_TIMEOUT_MS }),
  );
  await progress.step('web-arm: multi-user.target', () => vagrantMachine(plan, choice).waitUntilSucceeds(READY, BOOT_TIMEOUT_MS));
  return { bootToReadyMs: Math.round(performance.now() - started) };
}

/** `vagrant reload`: the VM shuts down and boots again (no provisioning); waits for a new boot id. */
export async function rebootVagrant(plan: LabPlan, choice: VagrantChoice, progress: Progress): Promise<{ rebootMs: number; bootIdBefore: string; bootIdAfter: string }> {
  const machine = vagrantMachine(plan, choice);
  const bootIdBefore = (await machine.succeed(BOOT_ID)).trim();
  const started = performance.now();
  await progress.step('vagrant reload (web-arm shuts down and boots)', () =>
    run(withVagrantEnv(vagrantEnv(plan, choice), vagrantArgv.reload()), { timeoutMs: BOOT_TIMEOUT_MS }),
  );
  await machine.waitUntilSucceeds(READY, BOOT_TIMEOUT_MS);
  const bootIdAfter = (await machine.succeed(BOOT_ID)).trim();
  return { rebootMs: Math.round(performance.now() - started), bootIdBefore, bootIdAfter };
}

/** `vagrant destroy` of the lab's VM, when Vagrant has one (the links go with the lab's other marked links). Idempotent. */
export async function destroyVagrant(plan: LabPlan, recorded: VagrantChoice | undefined): Promise<void> {
  const names = vagrantNames(plan);
  if (!existsSync(names.dotfilePath)) return;
  // The Vagrantfile needs a box and provider to load; destroying an existing machine uses neither.
  const choice = recorded ?? { box: 'v6lab-destroy', provider: 'libvirt' as const };
  await run(withVagrantEnv(vagrantEnv(plan, choice), vagrantArgv.destroy()), { timeoutMs: 10 * 60_000 });
}
