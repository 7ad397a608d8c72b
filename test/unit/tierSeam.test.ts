/**
 * The tier seam, checked by reading the sources (issue 17 items 3 and 5):
 * - outside lab/tiers/ and the config schema (lab/topology/config.ts) nothing compares a tier or
 *   guest name: code asks a capability (lab/tiers/capabilities.ts) or the tier registry
 *   (lab/tiers/registry.ts). Names in messages and comments are fine, comparisons are not;
 * - files under scenarios/ import from lab/ only the scenario context (lab/scenario/), the pure
 *   topology (lab/topology/), the design facts (lab/designs/design.ts) and the error hierarchy
 *   (lab/errors.ts: a story tells a verdict from breakage), and those pure modules do no I/O
 *   themselves.
 * - nothing outside lab/tiers/ imports a tier's own folder (lab/tiers/<tier>/…): it asks the
 *   tier through lab/tiers/tier.ts (a started WebArm, its logs, its optional abilities), the
 *   registry and the capabilities;
 * Pure: reads files, runs nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/** Every .ts file under these folders, as paths relative to the repository (forward slashes). */
function sources(...folders: string[]): string[] {
  return folders
    .flatMap((folder) => readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' }).map((f) => `${folder}/${f.split('\\').join('/')}`))
    .filter((f) => f.endsWith('.ts'))
    .sort();
}

/** The source without comments (a URL's `//` inside a string is kept). */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

const NAMES = '(?:netns|qemu|vagrant|debian|nixos)';
const QUOTED = `['"\`]${NAMES}['"\`]`;
/** A variable or member that holds a tier or guest name: `tier`, `state.tier`, `config.lab.guest`, `wantTier`, `guestKind`. */
const HOLDER = '[\\w$.?]*(?:\\b(?:tier|guest)|[a-z0-9](?:Tier|Guest))(?:Name|Kind)?';

/** What counts as asking a tier or guest name (one entry per way of writing it, so a failure says which). */
const TIER_COMPARISONS: ReadonlyArray<{ what: string; pattern: RegExp }> = [
  { what: 'compared with a tier or guest name', pattern: new RegExp(`(?:===|!==|==|!=)\\s*${QUOTED}`) },
  { what: 'a tier or guest name compared', pattern: new RegExp(`${QUOTED}\\s*(?:===|!==|==|!=)`) },
  { what: 'a switch case on a tier or guest name', pattern: new RegExp(`\\bcase\\s+${QUOTED}\\s*:`) },
  { what: 'a tier or guest name looked for', pattern: new RegExp(`\\.(?:includes|startsWith|endsWith|indexOf|has)\\(\\s*${QUOTED}`) },
  { what: 'a tier or guest compared', pattern: new RegExp(`(?<!typeof\\s+[\\w$.?]*)(?<![\\w$])${HOLDER}\\s*(?:===|!==|==|!=)(?!=)(?!\\s*(?:undefined|null)\\b)`) },
  { what: 'compared with a tier or guest', pattern: new RegExp(`(?:===|!==|==|!=)\\s*${HOLDER}\\b(?!\\s*[(\\[])`) },
  { what: 'a switch on a tier or guest', pattern: new RegExp(`\\bswitch\\s*\\(\\s*${HOLDER}\\s*\\)`) },
];

/** The lines of a source that compare tier or guest names, as `path:line: what: code`. */
function tierComparisons(path: string, text: string): string[] {
  const found: string[] = [];
  withoutComments(text)
    .split('\n')
    .forEach((line, i) => {
      const hit = TIER_COMPARISONS.find(({ pattern }) => pattern.test(line));
      if (hit) found.push(`${path}:${i + 1}: ${hit.what}: ${line.trim()}`);
    });
  return found;
}

/** Where the tiers may name themselves: their folders and the config schema that lists them. */
const MAY_NAME_TIERS = (path: string) => path.startsWith('lab/tiers/') || path === 'lab/topology/config.ts';

/** The lab modules a scenario may import. */
const SCENARIO_MAY_IMPORT = (target: string) => target.startsWith('lab/scenario/') || target.startsWith('lab/topology/') || target === 'lab/designs/design.ts' || target === 'lab/errors.ts';

/** The relative imports of a source (`import … from`, `export … from`, `import('…')`, `import '…'`), resolved to repository paths. */
function localImports(path: string, text: string): string[] {
  const specifiers = [...withoutComments(text).matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) => m[1]!);
  return specifiers.map((s) => relative(ROOT, resolve(ROOT, dirname(path), s)).split('\\').join('/'));
}

describe('no tier or guest names outside lab/tiers/', () => {
  it('nothing in lab/ or scenarios/ compares a tier or guest name (ask a capability or the tier registry)', () => {
    const files = sources('lab', 'scenarios').filter((f) => !MAY_NAME_TIERS(f));
    expect(files.length).toBeGreaterThan(100);
    const found = files.flatMap((f) => tierComparisons(f, readFileSync(join(ROOT, f), 'utf8')));
    expect(found, `compare capabilities instead (lab/tiers/capabilities.ts, lab/tiers/registry.ts):\n${found.join('\n')}`).toEqual([]);
  });

  it('the check catches each way of writing a comparison, and leaves messages, comments and typeof alone', () => {
    const caught = [
      "if (config.lab.tier === 'qemu') {",
      "const debian = guest !== 'debian';",
      "return 'vagrant' === name;",
      'if (tier === other) {',
      'if (wantTier !== state.tier) {',
      'const same = a === config.lab.guest;',
      "if (tiers.includes('qemu')) {",
      "case 'nixos':",
      'switch (config.lab.tier) {',
      "const d = state.guest?.kind == 'debian';",
    ];
    for (const line of caught) expect(tierComparisons('x.ts', line), line).toHaveLength(1);
    const left = [
      "throw new ConfigError('lab.tier', tier, 'is not a known tier', 'use --host qemu');",
      "// web-arm on qemu: tier === 'qemu' was how this read before",
      "/* guest !== 'debian' */",
      "if (typeof values.host === 'string') overrides.unshift({ path: 'lab.tier', value: values.host });",
      "if (typeof flags.tier === 'string') {}",
      'const tier = tierOf(config);',
      'if (getTier(a) === getTier(b)) {}',
      "summary: 'reboot web-arm (real on the qemu tier, emulated on the netns tier)',",
      'if (state.guest === undefined) {}',
      "const url = 'http://qemu.example/'; // a URL",
    ];
    for (const line of left) expect(tierComparisons('x.ts', line), line).toEqual([]);
  });
});

describe("a tier's folder is its own", () => {
  it('nothing outside lab/tiers/ imports a tier folder: it reaches a tier through tier.ts, the registry and the capabilities', () => {
    const tierFolder = /^lab\/tiers\/[^/]+\//;
    const wrong = sources('lab', 'scenarios', 'bench')
      .filter((f) => !f.startsWith('lab/tiers/'))
      .flatMap((f) => localImports(f, readFileSync(join(ROOT, f), 'utf8')).filter((target) => tierFolder.test(target)).map((target) => `${f} imports ${target}`));
    expect(wrong, `ask the tier (lab/tiers/tier.ts: WebArm, its logs and abilities) instead:\n${wrong.join('\n')}`).toEqual([]);
  });
});

describe('what scenarios see', () => {
  it('files under scenarios/ import from lab/ only lab/scenario/, lab/topology/, lab/designs/design.ts and lab/errors.ts', () => {
    const wrong = sources('scenarios').flatMap((f) =>
      localImports(f, readFileSync(join(ROOT, f), 'utf8'))
        .filter((target) => target.startsWith('lab/') && !SCENARIO_MAY_IMPORT(target))
        .map((target) => `${f} imports ${target}`),
    );
    expect(wrong, `reach it through the scenario context (lab/scenario/) instead:\n${wrong.join('\n')}`).toEqual([]);
    // The check reads the imports it means to (every scenario imports define.ts).
    expect(localImports('scenarios/01-egress-nat66.scenario.ts', readFileSync(join(ROOT, 'scenarios/01-egress-nat66.scenario.ts'), 'utf8'))).toContain('lab/scenario/define.ts');
  });

  it('the pure modules scenarios may import from outside lab/scenario/ do no I/O', () => {
    const pure = [...sources('lab/topology'), 'lab/designs/design.ts', 'lab/errors.ts'];
    const io = /(?:from\s*|import\s*\(\s*)['"](?:node:(?:fs|fs\/promises|child_process|net|dgram|http|https)|execa|dockerode|testcontainers|[^'"]*\/exec\.ts)['"]/;
    const wrong = pure.filter((f) => io.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(wrong, 'a module scenarios import directly must stay pure').toEqual([]);
  });
});
