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
import { configureUpstream, wireInternetHost } from '../nodes/wiring.ts';
import { startRouterXlat } from '../nodes/routerXlat.ts';
import { isV6Only } from '../topology/v6only.ts';
import { readHostFacts, settingsFor } from '../podman/hostSettings.ts';
import type { Progress } from '../progress.ts';
import { takeBaselines } from '../scenario/baselines.ts';
import { readState, writeState, type LabState } from '../state/store.ts';
import { tierOf } from '../tiers/registry.ts';
import type { WebArm } from '../tiers/tier.ts';
import type { LabConfig } from '../topology/config.ts';
import { planLab, planLinks } from '../topology/plan.ts';
import { assertSafePlan } from '../topology/safety.ts';
import { listRootLinks } from '../links/veth.ts';
import { applyDesign } from './apply.ts';
import { designedSystem, readBaselineFiles, writeBaselineFiles } from './designed.ts';
import { planDesign } from '../designs/registry.ts';
import { declaredBaselines } from '../scenario/registry.ts';
import type { DesignRestored } from '../tiers/tier.ts';

export interface UpResult {
  state: LabState;
  alreadyUp: boolean;
  /** The started web-arm (absent when the lab was already up: attach to it instead). */
  webArm?: WebArm;
}

export async function labUp(config: LabConfig, progress: Progress, signal?: AbortSignal): Promise<UpResult> {
  // Everything that can be wrong with the input fails here, before anything is created.
  validateDesign(config);
  const tier = tierOf(config);
  // The tier's own prerequisites (guest arch, nix and nixpkgs, vagrant and a NixOS box).
  const prerequisites = await tier.prerequisites(config);
  // The node image per architecture: the router and internet containers here run this
  // machine's; web-arm's podman runs one built for web-arm's (a guest's may be foreign).
  const hostArch = machineArch();
  const webArmArch = tier.webArmArch(config, hostArch) as ImageArch;
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
  // The crash record `down` reads; later steps get what they need in memory.
  const state: LabState = {
    schema: 'v6lab.state/1',
    name: plan.name,
    tier: tier.name,
    phase: 'creating',
    createdAt: new Date().toISOString(),
    config,
    containers: [],
    podmanSettings: settings.reasons,
    boots: 0,
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
  const image = { tag: webArmImage.tag, tarball: webArmImage.tarball, arch: webArmImage.arch };

  // Work the tier can do beside the router and hosts (netns: the shared image store).
  const early = tier.begin?.(plan, image, progress);

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
  const hostMachine = (node: string) => {
    const c = state.containers.find((x) => x.node === node);
    return c ? hostContainerMachine(c.node, c.pid, c.netnsName) : undefined;
  };
  if (isV6Only(config)) {
    await step('upstream router: DNS64 (unbound) and NAT64 (tayga) for the IPv6-only web-arm', () => startRouterXlat(plan, hostMachine(plan.upstream.node)!));
  }

  // Where the tier keeps web-arm with the design applied, a start may restore it so (the
  // same rendered system, parameters and baselines); then nothing is applied again.
  const record = (patch: Parameters<Parameters<typeof tier.start>[0]['record']>[0]) => {
    Object.assign(state, patch);
    writeState(state);
  };
  const baselineRefs = declaredBaselines();
  const render = (w: WebArm) => designedSystem(w, config, image.tag, baselineRefs);
  const keepsApplied = Boolean(tier.appliedSnapshots) && config.lab.snapshot && config.lab.designSnapshot;
  let restoredApplied: DesignRestored | undefined;
  const webArm = await step(`boot web-arm as production runs it (before the change; ${tier.name} tier)`, () =>
    tier.start(
      {
        plan,
        prerequisites,
        image,
        progress,
        signal,
        record,
        ...(keepsApplied ? { designed: { render, restored: (r: DesignRestored) => void (restoredApplied = r) } } : {}),
      },
      early,
    ),
  );
  if (restoredApplied) {
    const restored: DesignRestored = restoredApplied;
    // The baselines of the saving lab's apply belong to this very guest state: they come with it.
    writeBaselineFiles(plan.stateDir, restored.baselines);
    progress.note(
      `design ${config.design.name} came applied with web-arm (snapshot ${restored.key}, saved ${restored.savedAt} by lab ${restored.savedBy}); ` +
        `its baselines (${Object.keys(restored.baselines).join(', ') || 'none'}) were taken by that lab around its apply`,
    );
    state.design = { name: config.design.name, appliedAt: restored.savedAt, plan: planDesign(config, webArm.layout(image.tag)) };
    state.phase = 'up';
    writeState(state);
    return { state, alreadyUp: false, webArm };
  }
  // web-arm before the change: the baselines scenarios declared for this moment.
  const mx = hostMachine('mx');
  await takeBaselines('at-up', { plan, webArm, progress, ...(mx ? { mx } : {}) });

  const applied = await step(`apply design ${config.design.name}`, () =>
    applyDesign(webArm, config, image.tag, progress, { at: async (moment) => void (await takeBaselines(moment, { plan, webArm, progress })) }),
  );
  state.design = { name: applied.design.design, appliedAt: new Date().toISOString(), plan: applied.design };
  // Applied in full (applyDesign throws otherwise): the tier may keep web-arm so for the next lab.
  if (keepsApplied && tier.appliedSnapshots) {
    const keeper = tier.appliedSnapshots;
    await step(`keep web-arm with design ${config.design.name} applied (a later lab up restores it)`, () =>
      keeper.saveApplied({ plan, designed: render(webArm), baselines: readBaselineFiles(plan.stateDir), progress, record }),
    );
  }
  state.phase = 'up';
  writeState(state);
  return { state, alreadyUp: false, webArm };
}
