/**
 * The qemu tier's NixOS guest: built by nix on this machine (nix build …system.build.vm), run
 * in the upstream router's namespace with the router's tap as its only NIC, driven through the
 * guest agent like the Debian guest (the same Machine). A switch builds the new system on this
 * machine (the guest shares its /nix/store), registers it in the guest and switches there. Needs
 * nix and a nixpkgs (checked by preflight.ts before anything is created).
 */
import { copyFileSync, linkSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nsenterArgv, run, spawnDaemon } from '../../../exec.ts';
import { guestAgent, guestMachine, webArmVmNames, agentSocketPath } from '../guestMachine.ts';
import { nixosSwitchedWebArm } from '../../nixosSwitch.ts';
import type { WebArm } from '../../tier.ts';
import { qemuCapabilities } from '../capabilities.ts';
import { guestSystemMachine, guestWhereabouts } from '../webArmSystem.ts';
import { configureRouterPort } from '../../../nodes/wiring.ts';
import { netnsPath } from '../../../links/netns.ts';
import type { Progress } from '../../../progress.ts';
import { createUplink, vmConsole } from '../vm.ts';
import type { GuestRecord } from '../../../state/store.ts';
import type { LabPlan } from '../../../topology/plan.ts';
import { writeModules } from '../../../nixos/nixosSwitch.ts';
import type { NixpkgsSource } from './preflight.ts';
import {
  builtPath,
  closureArgv,
  dumpDbArgv,
  GUEST_IMAGE_TAR,
  GUEST_REGISTRATION,
  guestFlakeFiles,
  guestRunArgv,
  guestSwitchCommand,
  nixBuildArgv,
  TOPLEVEL_ATTRIBUTE,
  VM_ATTRIBUTE,
} from './qemuGuest.ts';

const BUILD_TIMEOUT_MS = 90 * 60_000;
const BOOT_TIMEOUT_MS = 15 * 60_000;

/** The guest's flake directory (persistent) and the VM's shared directory (the guest's /tmp/xchg). */
export function nixosGuestDirs(plan: LabPlan): { flake: string; xchg: string } {
  return { flake: join(plan.stateDir, 'nixos-guest'), xchg: join(webArmVmNames(plan).runDir, 'xchg') };
}

async function nixBuild(flakeDir: string, attribute: string): Promise<string> {
  return builtPath((await run(nixBuildArgv(flakeDir, attribute), { timeoutMs: BUILD_TIMEOUT_MS })).stdout);
}

export async function bootNixosGuest(plan: LabPlan, nixpkgs: NixpkgsSource, image: { tag: string; tarball: string }, progress: Progress): Promise<GuestRecord> {
  const names = webArmVmNames(plan);
  const dirs = nixosGuestDirs(plan);
  writeModules(dirs.flake, guestFlakeFiles(plan.config, nixpkgs, image.tag, false));
  const vm = await progress.step(`nix build web-arm's NixOS VM (nixpkgs from ${nixpkgs.from})`, () => nixBuild(dirs.flake, VM_ATTRIBUTE));
  rmSync(names.runDir, { recursive: true, force: true });
  mkdirSync(dirs.xchg, { recursive: true });
  const tar = join(dirs.xchg, GUEST_IMAGE_TAR.split('/').at(-1)!);
  try {
    linkSync(image.tarball, tar);
  } catch {
    copyFileSync(image.tarball, tar);
  }
  await progress.step(`uplink: tap ${names.tap} in ${names.netns}`, () => createUplink(names, undefined, plan.config.upstream.mac));
  const started = performance.now();
  const runSpec = { vm, runDir: names.runDir, tap: names.tap, mac: plan.config.webArm.mac, agentSocket: agentSocketPath(names), processMark: names.processMark };
  spawnDaemon(nsenterArgv({ net: netnsPath(names.netns) }, guestRunArgv(runSpec)), { logFile: join(names.runDir, 'console.log') });
  await configureRouterPort(plan);
  const agent = guestAgent(names);
  await progress.step('web-arm: boot to multi-user.target (NixOS, real systemd)', async () => {
    await agent.waitForAgent(BOOT_TIMEOUT_MS);
    await agent.waitForUnit('multi-user.target', BOOT_TIMEOUT_MS);
  });
  return {
    arch: plan.config.lab.arch,
    accel: 'kvm',
    accelWhy: "the NixOS VM runner's choice (KVM where it works, else TCG)",
    imageHash: vm.split('/').at(-1)!.slice(0, 12),
    kernelVersion: 'NixOS',
    // No snapshot for the NixOS guest: always a boot.
    start: 'boot',
    bootToReadyMs: Math.round(performance.now() - started),
  };
}

/** The NixOS guest as a started WebArm: every switch builds the system on this machine from `nixpkgs`. */
export function nixosWebArm(plan: LabPlan, nixpkgs: NixpkgsSource, imageTag: string): WebArm {
  const machine = guestSystemMachine(plan);
  const dirs = nixosGuestDirs(plan);
  return nixosSwitchedWebArm({
    tier: 'qemu',
    plan,
    machine,
    capabilities: qemuCapabilities(plan.config),
    imageTag,
    modulesDir: dirs.flake,
    modules: (withDesign) => guestFlakeFiles(plan.config, nixpkgs, imageTag, withDesign),
    async activate(progress) {
      const toplevel = await progress.step("nix build web-arm's new NixOS system", () => nixBuild(dirs.flake, TOPLEVEL_ATTRIBUTE));
      const closure = (await run(closureArgv(toplevel))).stdout.split('\n').filter(Boolean);
      mkdirSync(dirs.xchg, { recursive: true });
      writeFileSync(join(dirs.xchg, GUEST_REGISTRATION.split('/').at(-1)!), (await run(dumpDbArgv(closure), { timeoutMs: 120_000 })).stdout);
      await progress.step('switch-to-configuration switch (in the guest)', () => machine.succeed(guestSwitchCommand(toplevel), { timeoutMs: BOOT_TIMEOUT_MS }));
    },
    whereabouts: () => guestWhereabouts(plan),
    console: vmConsole(webArmVmNames(plan)),
  });
}
