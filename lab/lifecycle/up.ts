/**
 * `lab up`: validate (the tier's prerequisites too), then build the topology (router and
 * internet hosts as containers, web-arm as namespaces with podman inside, as a QEMU guest
 * (Debian or NixOS) on the qemu tier, or a Vagrant NixOS VM), boot web-arm as production runs it
 * (on the qemu tier: or restore the cached clean web-arm snapshot instead), record
 * its host state, and apply the design. Everything created carries the lab's mark; a failure
 * or Ctrl-C part-way leaves state that `down` removes (the CLI runs it at once).
 */
import { mkdirSync } from 'node:fs';
import { validateDesign } from '../designs/registry.ts';
import { ensureEngine } from '../engine/engine.ts';
import { ensureEngineImage } from '../engine/nodeImage.ts';
import { ensureHostPackages, assertRoot } from '../host/packages.ts';
import { ensurePrivateMount } from '../host/mounts.ts';
import { ensureRootfs } from '../images/cache.ts';
import { machineArch } from '../images/buildArch.ts';
import { nodeImageRecipe, type ImageArch } from '../images/recipe.ts';
import { hostContainerMachine, startHostContainer } from '../nodes/hostContainers.ts';
import { observeMailPath, saveMailObservation } from '../mail/mailPath.ts';
import { writeWebArmEtc } from '../nodes/webArm/webArm.ts';
import { ensureSharedImageStore } from '../podman/sharedImageStore.ts';
import { guestArchOf } from '../nodes/guest/guestPower.ts';
import { bootNixosGuest } from '../nixos/nixosGuest.ts';
import { bootVagrant } from '../vagrant/vagrantPower.ts';
import { checkTierPrerequisites } from './tierPrerequisites.ts';
import { webArmSystem } from '../nodes/webArmSystem.ts';
import { configureUpstream, wireInternetHost } from '../nodes/wiring.ts';
import { startRouterXlat } from '../nodes/routerXlat.ts';
import { isV6Only } from '../topology/v6only.ts';
import { readHostFacts, settingsFor } from '../podman/hostSettings.ts';
import type { Progress } from '../progress.ts';
import { saveSnapshot, takeHostSnapshot } from '../state/hostSnapshot.ts';
import { readState, writeState, type GuestRecord, type LabState } from '../state/store.ts';
import { saveWorkloadSnapshot, takeWorkloadSnapshot } from '../state/workloadSnapshot.ts';
import type { LabConfig } from '../topology/config.ts';
import { planLab, planLinks } from '../topology/plan.ts';
import { assertSafePlan } from '../topology/safety.ts';
import { listRootLinks } from '../links/veth.ts';
import { applyDesign, installBaseSystem } from './apply.ts';
import { startWebArmGuest } from './guestStart.ts';
import { powerOnWebArm } from './webArmPower.ts';

export interface UpResult {
  state: LabState;
  alreadyUp: boolean;
}

export async function labUp(config: LabConfig, progress: Progress, signal?: AbortSignal): Promise<UpResult> {
  // Everything that can be wrong with the input fails here, before anything is created.
  validateDesign(config);
  // The tier's own prerequisites (guest arch, nix and nixpkgs, vagrant and a NixOS box).
  const prerequisites = await checkTierPrerequisites(config);
  // The node image per architecture: the router and internet containers here run this
  // machine's; web-arm's podman runs one built for web-arm's (a guest's may be foreign).
  const hostArch = machineArch();
  const webArmArch = config.lab.tier === 'qemu' ? guestArchOf(config) : hostArch;
  const plan = planLab(config);
  assertRoot();
  const links = planLinks(plan);
  assertSafePlan(plan, links, await listRootLinks(''));
  const existing = readState(plan.name);
  if (existing?.phase === 'up') {
    progress.note(`lab "${plan.name}" is already up (to rebuild it: pnpm lab down${plan.name === 'main' ? '' : ` --name ${plan.name}`} first)`);
    return { state: existing, alreadyUp: true };
  }
  const step = <T>(title: string, fn: () => Promise<T>) => {
    signal?.throwIfAborted();
    return progress.step(title, fn);
  };

  const installed = await step('host packages', () => ensureHostPackages(progress));
  if (installed.length) progress.note(`installed: ${installed.join(', ')}`);

  await ensurePrivateMount(plan.runtimeDir);
  mkdirSync(plan.stateDir, { recursive: true });
  const settings = settingsFor(readHostFacts());
  const state: LabState = {
    schema: 'v6lab.state/1',
    name: plan.name,
    tier: config.lab.tier,
    phase: 'creating',
    createdAt: new Date().toISOString(),
    config,
    containers: [],
    podmanSettings: settings.reasons,
    boots: 0,
    ...(prerequisites.vagrant ? { vagrant: prerequisites.vagrant } : {}),
    ...(prerequisites.nixpkgs ? { nixos: { nixpkgs: prerequisites.nixpkgs } } : {}),
  };
  writeState(state);
  for (const reason of settings.reasons) progress.note(`podman on this host: ${reason}`);

  const nodeImage = (arch: ImageArch) => ensureRootfs(nodeImageRecipe(config.image.suite, config.image.mirror, arch), progress);
  const hostImage = await step(`node image rootfs (${hostArch}, this machine's containers)`, () => nodeImage(hostArch));
  const webArmImage =
    webArmArch === hostArch ? hostImage : await step(`node image rootfs (${webArmArch}, web-arm's containers)`, () => nodeImage(webArmArch));
  for (const built of new Set([hostImage, webArmImage])) {
    if (built.built) progress.note(`node image ${built.tag} (${built.arch}) built in ${Math.round((built.buildMs ?? 0) / 1000)} s`);
  }
  const tag = hostImage.tag;
  state.hostImage = { tag, tarball: hostImage.tarball, arch: hostImage.arch };
  state.image = { tag: webArmImage.tag, tarball: webArmImage.tarball, arch: webArmImage.arch };
  writeState(state);

  // netns tier: web-arm's podman sees the node image in a shared read-only store, imported
  // once per image (podman/sharedImageStore.ts); made side by side with the router and hosts.
  // Should it fail, web-arm imports the image into its own storage as before.
  const sharedStore =
    config.lab.tier === 'netns'
      ? ensureSharedImageStore(webArmImage.tag, webArmImage.tarball, settings).catch((error: unknown) => {
          progress.note(`shared image store unavailable (${error instanceof Error ? error.message.split('\n')[0] : String(error)}): web-arm imports the image itself`);
          return undefined;
        })
      : undefined;

  const engine = await step('container engine', () => ensureEngine({ socketPath: plan.engineSocket, runtimeDir: plan.runtimeDir }, progress));
  progress.note(`engine: ${engine.description}`);
  state.engine = { description: engine.description, kind: engine.kind, socketPath: engine.socketPath };
  writeState(state);
  await step('node image in the engine', () => ensureEngineImage(engine, tag, hostImage.tarball, progress));

  const specs = [
    { node: plan.upstream.node, containerName: plan.upstream.containerName, netnsName: plan.upstream.netnsName, command: ['/bin/sleep', 'infinity'] },
    ...plan.internet.map((h) => ({ node: h.node, containerName: h.containerName, netnsName: h.netnsName, command: h.command })),
  ];
  await step('start router and internet hosts (testcontainers, network none)', async () => {
    const started = await Promise.all(specs.map((s) => startHostContainer(engine, { lab: plan.name, image: tag, ...s })));
    state.containers = started;
    writeState(state);
  });
  await step('wire upstream router and internet segment', async () => {
    await configureUpstream(plan);
    await Promise.all(plan.internet.map((h) => wireInternetHost(plan, h)));
  });
  if (isV6Only(config)) {
    const router = state.containers.find((c) => c.node === plan.upstream.node)!;
    await step('upstream router: DNS64 (unbound) and NAT64 (tayga) for the IPv6-only web-arm', () =>
      startRouterXlat(plan, hostContainerMachine(router.node, router.pid, router.netnsName)),
    );
  }

  await step(`boot web-arm as production runs it (before the change; ${config.lab.tier} tier)`, async () => {
    if (config.lab.tier === 'vagrant' && prerequisites.vagrant) {
      // `vagrant up` provisions production before the change (nixos-rebuild switch); recorded as the baseline.
      const boot = await bootVagrant(plan, prerequisites.vagrant, webArmImage, progress);
      progress.note(`web-arm (Vagrant, ${prerequisites.vagrant.provider}) up in ${Math.round(boot.bootToReadyMs / 1000)} s`);
      await installBaseSystem(plan, webArmImage.tag, progress, { startUnits: false });
      return;
    }
    if (config.lab.tier === 'qemu' && prerequisites.nixpkgs) {
      // The VM is built with production before the change; recorded as the baseline.
      state.guest = await bootNixosGuest(plan, prerequisites.nixpkgs, webArmImage, progress);
      writeState(state);
      await installBaseSystem(plan, webArmImage.tag, progress, { startUnits: false });
      return;
    }
    if (config.lab.tier === 'qemu') {
      // Booted (then the base system installed and started, and saved as the clean web-arm
      // snapshot), or restored from that snapshot: lifecycle/guestStart.ts.
      const record = (guest: GuestRecord) => {
        state.guest = guest;
        writeState(state);
      };
      record(await startWebArmGuest(plan, webArmImage, progress, record));
      return;
    }
    const store = await step("web-arm: node image in the shared read-only image store (once per image)", async () => {
      const shared = await sharedStore;
      if (shared?.created) progress.note(`imported ${webArmImage.tag} into ${shared.dir}`);
      return shared;
    });
    writeWebArmEtc(plan, settings, store ? [store.dir] : []);
    // Install the base system's units and files; they start at boot.
    await installBaseSystem(plan, webArmImage.tag, progress, { startUnits: false });
    await powerOnWebArm(plan, webArmImage, progress);
  });
  const webArm = webArmSystem(plan).machine;
  saveSnapshot(plan.stateDir, await takeHostSnapshot(webArm, config.webArm.uplink, 'before-apply'));
  saveWorkloadSnapshot(plan.stateDir, await takeWorkloadSnapshot(webArm, 'before-apply'));
  if (config.lab.tier === 'qemu' && config.lab.guest === 'debian') {
    // The mail path before the change: postfix (the qemu tier's Debian web-arm runs it) to mx.example.
    const mx = state.containers.find((c) => c.node === 'mx');
    if (mx) {
      const mail = await step('mail path before the change (postfix → mx.example)', () =>
        observeMailPath(config, webArm, hostContainerMachine(mx.node, mx.pid, mx.netnsName), 'before-apply'),
      );
      saveMailObservation(plan.stateDir, mail);
      progress.note(mail.received ? `mail left web-arm from ${mail.received.client}` : 'the probe mail did not arrive (the mail-path scenario will say so)');
    }
  }

  const applied = await step(`apply design ${config.design.name}`, () => applyDesign(plan, state, progress, { snapshots: true }));
  state.design = { name: applied.design.design, appliedAt: new Date().toISOString(), plan: applied.design };
  state.phase = 'up';
  writeState(state);
  return { state, alreadyUp: false };
}
