/**
 * web-arm's whole configuration for a layout: the base system (production before the change)
 * plus, when given, a design's files and units. Pure.
 */
import type { LabConfig } from '../topology/config.ts';
import { renderBaseSystem, sysctlUnit, type SystemRendering } from './baseSystem.ts';
import type { DesignPlan, HostLayout } from './design.ts';

export function renderSystem(config: LabConfig, layout: HostLayout, design?: DesignPlan): SystemRendering {
  const base = renderBaseSystem(config, layout);
  const files = { ...base.files, ...(design?.files ?? {}) };
  const ownSysctl = layout.systemd === 'real' ? [] : [sysctlUnit(layout, files)];
  return { files, units: [...ownSysctl, ...base.units, ...(design?.units ?? [])] };
}
