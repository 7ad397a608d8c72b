/**
 * The designed system (what web-arm runs once the design is applied), as a tier that keeps
 * web-arm with the design applied needs it: its fingerprint (pure), and the baseline files the
 * lifecycle takes around an apply, read to be saved with it and written back on a restore.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { renderDesign } from './apply.ts';
import type { BaselineRef } from '../scenario/baselineTypes.ts';
import { snapshotDir } from '../scenario/observe/hostSnapshot.ts';
import type { DesignedSystem, WebArm } from '../tiers/tier.ts';
import type { LabConfig } from '../topology/config.ts';
import { isV6Only } from '../topology/v6only.ts';
import { renderUnit } from '../units/render.ts';

function sortedEntries(record: Record<string, string>): Array<[string, string]> {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The design's parameters in one line ("{}" when it has none set). Pure. */
export function designParamsLine(config: LabConfig): string {
  const params = JSON.stringify(config.design.params);
  return isV6Only(config) ? `${params} (IPv6-only)` : params;
}

/**
 * The system the config's design renders on this web-arm, fingerprinted: the rendered units and
 * files (base + design, with the tier's own files), the whole config but the lab's name, state
 * directory and snapshot switches (which change nothing in web-arm), and the baselines taken
 * around the apply. Pure.
 */
export function designedSystem(webArm: Pick<WebArm, 'layout' | 'extraFiles'>, config: LabConfig, image: string, baselines: readonly BaselineRef[]): DesignedSystem {
  const system = renderDesign(webArm, config, image);
  const { name: _name, stateDir: _stateDir, snapshot: _snapshot, designSnapshot: _designSnapshot, ...lab } = config.lab;
  const canonical = JSON.stringify({
    units: system.units.map((u) => [u.name, renderUnit(u)]).sort(([a], [b]) => (a! < b! ? -1 : 1)),
    files: sortedEntries(system.files),
    config: { ...config, lab },
    baselines: [...new Set(baselines.map((b) => `${b.kind}@${b.moment}`))].sort(),
  });
  return { design: config.design.name, params: designParamsLine(config), fingerprint: createHash('sha256').update(canonical).digest('hex').slice(0, 16) };
}

/** The baseline files in the lab's state directory (name → content), as an apply left them. */
export function readBaselineFiles(stateDir: string): Record<string, string> {
  const dir = snapshotDir(stateDir);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return {};
  }
  return Object.fromEntries(names.sort().map((n) => [n, readFileSync(join(dir, n), 'utf8')]));
}

/** Writes baseline files saved with a snapshot into the lab's state directory. */
export function writeBaselineFiles(stateDir: string, files: Record<string, string>): void {
  const dir = snapshotDir(stateDir);
  mkdirSync(dir, { recursive: true });
  // Names only (no path of the saving lab's may leak in).
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, basename(name)), content);
}
