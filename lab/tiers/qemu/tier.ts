/**
 * The qemu tier: web-arm is a QEMU guest (KVM where it works, TCG otherwise) whose only NIC is a
 * tap in the upstream router's namespace, driven through its guest agent. Two guest kinds: the
 * Debian trixie guest the lab builds (real systemd, podman 5, dockerd, postfix; a clean web-arm
 * is saved once and restored in seconds) and the NixOS guest built by nix (where nix and a
 * nixpkgs exist).
 */
import { snapshotBudgetFromEnv } from './snapshotBudget.ts';
import { installBaseSystem } from '../../lifecycle/apply.ts';
import { describeGuestStart } from '../../state/store.ts';
import { LabStateError } from '../../errors.ts';
import type { Tier } from '../tier.ts';
import { qemuCapabilities } from './capabilities.ts';
import { destroyGuest, guestArchOf } from './guestPower.ts';
import { saveAppliedSnapshot, startWebArmGuest } from './guestStart.ts';
import { readState } from '../../state/store.ts';
import { bootNixosGuest, nixosWebArm } from './nixos/nixosGuest.ts';
import { checkNix, gatherNixFacts, type NixpkgsSource } from './nixos/preflight.ts';
import { debianWebArm } from './webArmSystem.ts';
import { qemuSnapshots } from './snapshotAbility.ts';
import { DEFAULT_GUEST_MEMORY_MIB } from './argv.ts';
import type { GuestArch } from './recipe.ts';

export interface QemuPrerequisites {
  /** The NixOS guest's nixpkgs (absent for the Debian guest). */
  nixpkgs?: NixpkgsSource;
}

export const qemuTier: Tier<QemuPrerequisites> = {
  name: 'qemu',
  summary: 'a QEMU guest (Debian trixie built by the lab, or NixOS built by nix): real systemd, real reboot',
  capabilities: qemuCapabilities,
  webArmArch: (config) => guestArchOf(config),
  async prerequisites(config) {
    guestArchOf(config);
    // The snapshot cache's size (V6LAB_SNAPSHOT_CACHE_GIB): bad input fails before anything is created.
    if (config.lab.snapshot) snapshotBudgetFromEnv();
    return config.lab.guest === 'nixos' ? { nixpkgs: checkNix(await gatherNixFacts()) } : {};
  },
  async start({ plan, prerequisites, image, progress, record, designed }) {
    if (prerequisites.nixpkgs) {
      // The VM is built with production before the change; recorded as the baseline.
      const nixpkgs = prerequisites.nixpkgs;
      record({ nixos: { nixpkgs } });
      record({ guest: await bootNixosGuest(plan, nixpkgs, image, progress) });
      const webArm = nixosWebArm(plan, nixpkgs, image.tag);
      await installBaseSystem(webArm, plan.config, image.tag, progress, { startUnits: false });
      return webArm;
    }
    // Booted (then the base system installed and started, and saved as the clean web-arm
    // snapshot), or restored from that snapshot: guestStart.ts.
    const guestImage = { tag: image.tag, tarball: image.tarball, arch: image.arch as GuestArch };
    // The NixOS guest above keeps no snapshots; the Debian guest may come with the design applied.
    record({ guest: await startWebArmGuest(plan, guestImage, progress, (guest) => record({ guest }), designed) });
    return debianWebArm(plan);
  },
  attach(plan, state) {
    if (plan.config.lab.guest !== 'nixos') return debianWebArm(plan);
    if (!state.nixos) throw new LabStateError(`lab "${plan.name}" has no recorded nixpkgs for its NixOS guest. Fix: pnpm lab down --name ${plan.name}, then lab up again.`);
    return nixosWebArm(plan, state.nixos.nixpkgs, state.image?.tag ?? '');
  },
  async destroy(plan) {
    // Found by its QEMU's mark, whatever the lab's record says.
    await destroyGuest(plan);
    return [];
  },
  describeStart(state) {
    if (!state.guest) return undefined;
    // States written before snapshots have no start: web-arm booted.
    const guest = { ...state.guest, start: state.guest.start ?? 'boot' };
    return `web-arm guest: ${guest.arch}, ${guest.accel}, ${describeGuestStart(guest)}${guest.restoreFailed ? `; restore failed: ${guest.restoreFailed}` : ''}`;
  },
  snapshots: qemuSnapshots,
  // A fork restores the snapshot (seconds), applies the design and starts a router and an internet: about a minute and a half under TCG.
  forks: { webArmMemoryMiB: DEFAULT_GUEST_MEMORY_MIB, forkCostMs: 90_000 },
  appliedSnapshots: {
    async saveApplied({ plan, designed, baselines, progress, record }) {
      // The NixOS guest is built by nix at every switch: nothing kept.
      if (plan.config.lab.guest === 'nixos') return;
      await saveAppliedSnapshot({ plan, designed, baselines, progress, record, guest: readState(plan.name)?.guest });
    },
  },
};
