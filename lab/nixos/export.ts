/**
 * `lab export`: a design rendered for a host outside the lab. One registry of formats; an
 * unknown format or a design a format cannot render fails with the known ones (UsageError).
 * Pure: the caller passes the validated config and the image the probe runs.
 */
import { getDesign, planDesign } from '../designs/registry.ts';
import { UsageError } from '../errors.ts';
import type { LabConfig } from '../topology/config.ts';
import { nixosLayout, renderNixosModule } from './module.ts';
import { renderVmModule } from './vmModule.ts';

export interface ExportFormat {
  name: string;
  summary: string;
  /** The designs this format renders. */
  designs: readonly string[];
  render(config: LabConfig, image: string, command: string): string;
}

const FORMATS: readonly ExportFormat[] = [
  {
    name: 'nixos',
    summary: 'the design as a NixOS module for a host configuration (imports = [ ./<design>.nix ])',
    designs: ['v6egress'],
    render(config, image, command) {
      const layout = nixosLayout(image);
      return renderNixosModule(planDesign(config, layout), layout, command);
    },
  },
  {
    name: 'nixos-vm',
    summary: "web-arm's host side for the lab's NixOS VM (uplink, management NIC, firewall, live containers), importing ./<design>.nix",
    designs: ['v6egress'],
    render(config, image, command) {
      return renderVmModule(config, { designModule: `${config.design.name}.nix`, image, command });
    },
  },
];

export function exportFormats(): readonly ExportFormat[] {
  return FORMATS;
}

export function getExportFormat(name: string | undefined): ExportFormat {
  const format = FORMATS.find((f) => f.name === name);
  if (!format) {
    throw new UsageError(
      `${name === undefined ? 'No export format given' : `Unknown export format "${name}"`}. Formats: ${FORMATS.map((f) => f.name).join(', ')}. ` +
        'Usage: pnpm lab export <format> <design> [--set design.params.…]',
    );
  }
  return format;
}

/** Checks that the format renders the design (a known design, too). */
export function checkExportDesign(format: ExportFormat, design: string | undefined): string {
  if (design === undefined || !format.designs.includes(design)) {
    let known = false;
    try {
      getDesign(design ?? '');
      known = true;
    } catch {
      // not a design at all
    }
    const what = design === undefined ? 'No design given' : known ? `The ${format.name} format has no rendering of the ${design} design` : `Unknown design "${design}"`;
    throw new UsageError(`${what}. Designs the ${format.name} format renders: ${format.designs.join(', ')}. Usage: pnpm lab export ${format.name} <design>`);
  }
  return design;
}
