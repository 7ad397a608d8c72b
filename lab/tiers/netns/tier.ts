/**
 * The netns tier: web-arm is a network and a mount namespace of this machine with the lab's
 * emulated systemd and this machine's podman on lab-private storage. The fastest tier; its
 * reboot is emulated. Needs nothing beyond the lab's own host packages.
 */
import { installBaseSystem } from '../../lifecycle/apply.ts';
import { errorLine } from '../../errors.ts';
import { readHostFacts, settingsFor } from '../../podman/hostSettings.ts';
import type { Tier } from '../tier.ts';
import { netnsCapabilities } from './capabilities.ts';
import { powerOnWebArm } from './power.ts';
import { ensureSharedImageStore, type SharedImageStore } from './sharedImageStore.ts';
import { destroyWebArm, writeWebArmEtc } from './webArm.ts';
import { netnsWebArm } from './webArmSystem.ts';
import { killSupervisors } from './unitRunner.ts';
import { existsSync } from 'node:fs';

export const netnsTier: Tier<Record<string, never>> = {
  name: 'netns',
  summary: "namespaces of this machine, emulated systemd, this machine's podman (fastest; reboot emulated)",
  capabilities: netnsCapabilities,
  webArmArch: (_config, hostArch) => hostArch,
  prerequisites: async () => ({}),
  // web-arm's podman sees the node image in a shared read-only store, imported once per image
  // (sharedImageStore.ts), made beside the router and hosts. Should it fail, web-arm imports
  // the image into its own storage as before.
  begin: (_plan, image, progress) =>
    ensureSharedImageStore(image.tag, image.tarball, settingsFor(readHostFacts())).catch((error: unknown) => {
      progress.note(`shared image store unavailable (${errorLine(error)}): web-arm imports the image itself`);
      return undefined;
    }),
  async start({ plan, image, progress }, early) {
    const store = await progress.step('web-arm: node image in the shared read-only image store (once per image)', async () => {
      const shared = (await early) as SharedImageStore | undefined;
      if (shared?.created) progress.note(`imported ${image.tag} into ${shared.dir}`);
      return shared;
    });
    writeWebArmEtc(plan, settingsFor(readHostFacts()), store ? [store.dir] : []);
    const webArm = netnsWebArm(plan, image);
    // Install the base system's units and files; they start at boot.
    await installBaseSystem(webArm, plan.config, image.tag, progress, { startUnits: false });
    await powerOnWebArm(plan, image, progress);
    return webArm;
  },
  attach: (plan, state) => netnsWebArm(plan, { tag: state.image?.tag ?? '', tarball: state.image?.tarball ?? '' }),
  async destroy(plan) {
    const existed = existsSync(plan.webArm.netnsPath);
    // The Restart= watchers first: they would start again what is being removed.
    await killSupervisors(plan);
    await destroyWebArm(plan);
    return existed ? [`netns ${plan.webArm.netnsName}`] : [];
  },
};
