/**
 * One scenario registry (issue 17 item 6): lab/scenario/ids.ts names every scenario once, and
 * everything else agrees with it —
 * - the files scenarios/NN-<id>.scenario.ts are exactly SCENARIO_IDS, in order (NN = place, two
 *   digits), and each file's story is `scenario('<its id>', …)`;
 * - the registry (lab/scenario/registry.ts) has an entry for each id and no other, and every
 *   capability it requires is a boolean capability every tier states (lab/tiers/capabilities.ts);
 * - every design's declared verdicts, on every tier, guest and topology variant it accepts and
 *   with the params that change its declarations, name only registered scenarios.
 * Pure: reads the scenario files, plans designs, runs nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { knownDesigns, planDesign, validateDesign } from '../../lab/designs/registry.ts';
import type { HostLayout } from '../../lab/designs/design.ts';
import { ConfigError } from '../../lab/errors.ts';
import { isScenarioId, SCENARIO_IDS } from '../../lab/scenario/ids.ts';
import { allScenarios, SCENARIOS } from '../../lab/scenario/registry.ts';
import { capabilitiesOf } from '../../lab/tiers/capabilities.ts';
import { defaultConfig, type LabConfig } from '../../lab/topology/config.ts';
import { applyOverrides, parseOverride } from '../../lab/topology/overrides.ts';
import { validateConfig } from '../../lab/topology/validate.ts';

const SCENARIO_DIR = join(import.meta.dirname, '..', '..', 'scenarios');

/** The tiers and guests a lab can run (`--host`, `--guest`). */
const TIER_SETS: readonly string[][] = [[], ['lab.tier=qemu'], ['lab.tier=qemu', 'lab.guest=nixos'], ['lab.tier=vagrant', 'lab.guest=nixos']];
/** The topology and web-arm variants the designs declare differently for. */
const VARIANT_SETS: readonly string[][] = [[], ['topology.ipv4=false'], ['webArm.docker.enabled=false'], ['topology.ipv4=false', 'webArm.docker.enabled=false']];
/** The design params that change declared verdicts (a design that has not the param refuses it; that combination is skipped). */
const PARAM_SETS: readonly string[][] = [
  [],
  ['design.params.ndpProxy=none'],
  ['design.params.acceptPodmanInDockerUser=false'],
  ['design.params.acceptPodmanInDockerUser=true'],
  ['design.params.ipv6ProxyNdp=false'],
];

/** Every lab config the designs accept (a ConfigError means the design or tier refuses the combination). */
function acceptedConfigs(): Array<{ label: string; config: LabConfig }> {
  const accepted: Array<{ label: string; config: LabConfig }> = [];
  for (const design of knownDesigns()) {
    for (const tier of TIER_SETS) {
      for (const variant of VARIANT_SETS) {
        for (const params of PARAM_SETS) {
          const sets = [`design.name=${design}`, ...tier, ...variant, ...params];
          try {
            const config = validateConfig(applyOverrides(defaultConfig(), sets.map(parseOverride)));
            validateDesign(config);
            accepted.push({ label: sets.join(' '), config });
          } catch (error) {
            if (!(error instanceof ConfigError)) throw error;
          }
        }
      }
    }
  }
  return accepted;
}

function layoutFor(config: LabConfig): HostLayout {
  return {
    etc: '/etc',
    podmanSocket: '/run/podman/podman.sock',
    image: 'localhost/v6lab-node:abc',
    networkConfigDir: '/etc/containers/networks',
    systemd: capabilitiesOf(config).realSystemd ? 'real' : 'emulated',
  };
}

describe('scenario files', () => {
  const files = readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.scenario.ts'));

  it('are exactly scenarios/NN-<id>.scenario.ts for SCENARIO_IDS, in order', () => {
    expect(files.sort()).toEqual(SCENARIO_IDS.map((id, i) => `${String(i + 1).padStart(2, '0')}-${id}.scenario.ts`));
  });

  it("each tells the story of its own id: scenario('<its id>', …), once", () => {
    for (const file of files) {
      const id = file.replace(/^\d+-/, '').replace(/\.scenario\.ts$/, '');
      const named = [...readFileSync(join(SCENARIO_DIR, file), 'utf8').matchAll(/\bscenario\(\s*['"`]([^'"`]+)['"`]/g)].map((m) => m[1]);
      expect(named, file).toEqual([id]);
    }
  });
});

describe('the scenario registry', () => {
  it('has one entry per id, in the order of SCENARIO_IDS', () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual([...SCENARIO_IDS].sort());
    expect(allScenarios().map((s) => s.id)).toEqual([...SCENARIO_IDS]);
    for (const s of allScenarios()) expect(s.title.length, s.id).toBeGreaterThan(0);
  });

  it('requires only boolean capabilities that every tier and guest states', () => {
    const required = allScenarios().flatMap((s) => (s.requires ? [s.requires.capability] : []));
    expect(required.length).toBeGreaterThan(0);
    for (const tier of TIER_SETS) {
      const capabilities = capabilitiesOf(validateConfig(applyOverrides(defaultConfig(), tier.map(parseOverride)))) as unknown as Record<string, unknown>;
      for (const capability of required) expect(typeof capabilities[capability], `${capability} on ${tier.join(' ') || 'netns'}`).toBe('boolean');
    }
  });
});

describe("designs' declared verdicts", () => {
  const accepted = acceptedConfigs();

  it('are planned for every design on at least one tier and variant, and for the variants the designs support', () => {
    const designsPlanned = new Set(accepted.map((a) => a.config.design.name));
    expect([...designsPlanned].sort()).toEqual(knownDesigns().sort());
    // Each design on more than its default lab: other tiers, guests, variants or params.
    for (const design of knownDesigns()) expect(accepted.filter((a) => a.config.design.name === design).length, design).toBeGreaterThan(1);
  });

  it('name only registered scenarios, with "fail" or "skipped"', () => {
    const wrong: string[] = [];
    for (const { label, config } of accepted) {
      for (const [id, verdict] of Object.entries(planDesign(config, layoutFor(config)).expectations)) {
        if (!isScenarioId(id)) wrong.push(`${label}: declares ${id}, which is not a registered scenario`);
        if (verdict !== 'fail' && verdict !== 'skipped') wrong.push(`${label}: declares ${id} as ${String(verdict)}`);
      }
    }
    expect(wrong, `known scenarios: ${SCENARIO_IDS.join(', ')}`).toEqual([]);
  });
});
