/**
 * What a switch of a NixOS web-arm (the vagrant VM, the qemu tier's NixOS guest) shares: which
 * modules to install for the units the lab asks for, and what changed since the last switch.
 * NixOS renders its own units from the modules; the lab's unit renderings (the same design
 * data) only tell it which units must be up afterwards and which were added or changed.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planDesign } from '../designs/registry.ts';
import type { LabPlan } from '../topology/plan.ts';
import { planSwitch, type SwitchPlan } from '../units/diff.ts';
import type { UnitSpec } from '../units/model.ts';
import { renderUnit } from '../units/render.ts';
import { nixosLayout } from './module.ts';

const UNITS_FILE = 'units.json';

/** Which of the given units the NixOS switch is answerable for (podman.service is socket-activated there). */
export function unitsToCheck(units: readonly UnitSpec[]): string[] {
  return units.filter((u) => u.wantedBy.length > 0 && u.name !== 'podman.service').map((u) => u.name);
}

/** Whether the given units include the design's (then its module is installed beside the VM's). */
export function includesDesign(plan: LabPlan, units: readonly UnitSpec[], image: string): boolean {
  const design = planDesign(plan.config, nixosLayout(image));
  return design.units.every((d) => units.some((u) => u.name === d.name));
}

/** Replaces the *.nix files of dir with files. */
export function writeModules(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) if (name.endsWith('.nix') && !(name in files)) rmSync(join(dir, name));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

/** Added, changed, unchanged and removed units since the last switch recorded in dir; save() records this one. */
export function unitChanges(dir: string, units: readonly UnitSpec[]): { plan: SwitchPlan; save: () => void } {
  const file = join(dir, UNITS_FILE);
  const previous = new Map<string, string>(existsSync(file) ? Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : []);
  const next = new Map(units.map((u) => [u.name, renderUnit(u)]));
  return {
    plan: planSwitch(previous, next),
    save: () => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, `${JSON.stringify(Object.fromEntries(next), null, 2)}\n`);
    },
  };
}
