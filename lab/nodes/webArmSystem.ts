/**
 * web-arm's service manager, whatever the tier: emulated systemd on the netns tier (a unit
 * runner over namespaces), real systemd in the qemu tier's Debian guest, NixOS (modules
 * rendered from the same design data, switched by NixOS) in the qemu tier's NixOS guest and on
 * the vagrant tier. Designs render the same units and files for all; only where files go and
 * who starts units differ.
 */
import type { HostLayout } from '../designs/design.ts';
import { nixosGuestSystem } from '../tiers/qemu/nixos/nixosGuest.ts';
import type { Progress } from '../progress.ts';
import type { LabPlan } from '../topology/plan.ts';
import type { UnitSpec } from '../units/model.ts';
import { guestMachine } from '../tiers/qemu/guestMachine.ts';
import { restartGuestUnit, startGuestUnit, stopGuestUnit, switchGuest } from '../tiers/qemu/guestSystemd.ts';
import type { Machine } from './machine.ts';
import { restartUnit, startNamedUnit, stopNamedUnit, switchUnits, type StartResult, type SwitchResult } from '../tiers/netns/unitRunner.ts';
import { vagrantSystem } from '../tiers/vagrant/vagrantSystem.ts';
import { webArmMachine } from '../tiers/netns/webArm.ts';

export interface SwitchOptions {
  /** Called right before the given unit starts (only for units in startLast on the qemu tier). */
  beforeStart?: (unit: string) => Promise<void>;
  /** Units the hook wants to see start (started after the others on the qemu tier). */
  startLast?: readonly string[];
  start?: boolean;
}

export interface WebArmSystem {
  readonly machine: Machine;
  /** Where renderings put files and which units the tier's own OS provides. */
  layout(image: string): HostLayout;
  /** Installs units and files (relative to the layout's etc) like `nixos-rebuild switch`. */
  switch(units: UnitSpec[], files: Record<string, string>, progress: Progress, options?: SwitchOptions): Promise<SwitchResult>;
  restart(unit: string, progress: Progress): Promise<StartResult>;
  stop(unit: string, progress: Progress): Promise<void>;
  start(unit: string, progress: Progress): Promise<StartResult>;
}

/** The guest's podman API socket (Debian's podman.socket). */
export const GUEST_PODMAN_SOCKET = '/run/podman/podman.sock';

export function webArmSystem(plan: LabPlan): WebArmSystem {
  const { tier, guest } = plan.config.lab;
  if (tier === 'vagrant') return vagrantSystem(plan);
  if (tier === 'qemu') return guest === 'nixos' ? nixosGuestSystem(plan) : guestSystem(plan);
  return netnsSystem(plan);
}

function netnsSystem(plan: LabPlan): WebArmSystem {
  return {
    machine: webArmMachine(plan),
    layout: (image) => ({
      etc: plan.webArm.etcDir,
      podmanSocket: plan.webArm.apiSocket,
      image,
      networkConfigDir: plan.webArm.networkConfigDir,
      systemd: 'emulated',
    }),
    switch: (units, files, progress, options = {}) =>
      switchUnits(plan, units, files, progress, { beforeStart: options.beforeStart, start: options.start }),
    restart: (unit, progress) => restartUnit(plan, unit, progress),
    stop: (unit, progress) => stopNamedUnit(plan, unit, progress),
    start: (unit, progress) => startNamedUnit(plan, unit, progress),
  };
}

function guestSystem(plan: LabPlan): WebArmSystem {
  const machine = guestMachine(plan);
  const etc = '/etc';
  return {
    machine,
    layout: (image) => ({ etc, podmanSocket: GUEST_PODMAN_SOCKET, image, networkConfigDir: '/etc/containers/networks', systemd: 'real' }),
    switch: (units, files, progress, options = {}) =>
      switchGuest(machine, units, Object.fromEntries(Object.entries(files).map(([rel, text]) => [`${etc}/${rel}`, text])), progress, options),
    restart: (unit, progress) => progress.step(`systemctl restart ${unit}`, () => restartGuestUnit(machine, unit)),
    stop: (unit, progress) => progress.step(`systemctl stop ${unit}`, () => stopGuestUnit(machine, unit)),
    start: (unit, progress) => progress.step(`systemctl start ${unit}`, () => startGuestUnit(machine, unit)),
  };
}
