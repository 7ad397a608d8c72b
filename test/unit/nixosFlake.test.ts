/**
 * The top-level flake.nix the nightly's NixOS jobs lock and use: it pins nixpkgs to the release
 * web-arm runs (nixos-25.11), and its `lib.evalExports` maps every exported design module to the
 * systemd units it adds. No nixpkgs here: nix-instantiate parses the flake and evaluates its lib
 * against a stand-in nixpkgs whose nixosSystem reads each module's systemd.services (the flake's
 * own plumbing: readDir, the filter, the base units taken away). The real evaluation needs the
 * locked nixpkgs: the nightly's nixos-export job runs it.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../lab/exec.ts';
import { exportFormats } from '../../lab/nixos/export.ts';
import { hasNixInstantiate, nixEvalJsonArgv, parseNixText } from '../../lab/nixos/nixInstantiate.ts';
import { defaultConfig } from '../../lab/topology/config.ts';
import { validateConfig } from '../../lab/topology/validate.ts';
import { titleOrSkipReason } from './helpers/golden.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const FLAKE = join(ROOT, 'flake.nix');
const work = mkdtempSync(join(tmpdir(), 'v6lab-flake-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** nixpkgs.lib as far as the flake uses it, and a nixosSystem that turns services into units. */
const STUB_NIXPKGS = `
let
  b = builtins;
  filterAttrs = pred: set: b.listToAttrs (b.filter (a: pred a.name a.value) (b.map (name: { inherit name; value = set.\${name}; }) (b.attrNames set)));
  nameValuePair = name: value: { inherit name value; };
  mapAttrs' = f: set: b.listToAttrs (b.map (name: f name set.\${name}) (b.attrNames set));
  hasSuffix = s: str: let ls = b.stringLength s; lstr = b.stringLength str; in lstr >= ls && b.substring (lstr - ls) ls str == s;
  removeSuffix = s: str: if hasSuffix s str then b.substring 0 (b.stringLength str - b.stringLength s) str else str;
  nixosSystem = { modules }: {
    config.systemd.units = b.foldl' (acc: m:
      let
        loaded = if b.isPath m then import m else m;
        value = if b.isFunction loaded then loaded { config.virtualisation.podman.package = "podman"; } else loaded;
      in acc // mapAttrs' (n: s: nameValuePair "\${n}.service" { text = s.script or n; }) ((value.systemd or { }).services or { })
    ) { "minimal.service" = { text = "the minimal NixOS's own"; }; } modules;
  };
in { lib = { inherit filterAttrs nameValuePair mapAttrs' hasSuffix removeSuffix nixosSystem; mapAttrs = b.mapAttrs; }; }`;

describe('flake.nix', () => {
  const text = readFileSync(FLAKE, 'utf8');

  it('pins nixpkgs to the nixos-25.11 branch, and says how the lock is made', () => {
    expect(text).toMatch(/^\s*inputs\.nixpkgs\.url = "github:NixOS\/nixpkgs\/nixos-25\.11";$/m);
    // No narHash is invented here: the lock is made by `nix flake lock` on a networked runner.
    if (existsSync(join(ROOT, 'flake.lock'))) {
      const lock = JSON.parse(readFileSync(join(ROOT, 'flake.lock'), 'utf8')) as { nodes: Record<string, { original?: { ref?: string } }> };
      expect(lock.nodes.nixpkgs?.original?.ref).toBe('nixos-25.11');
    } else {
      expect(text).toContain('nix flake lock');
    }
  });
});

const nix = await hasNixInstantiate();

describe.skipIf(!nix)(titleOrSkipReason('nix-instantiate reads flake.nix', nix, 'nix-instantiate is not installed; apt-get install nix-bin'), () => {
  it('parses', async () => {
    await expect(parseNixText(readFileSync(FLAKE, 'utf8'))).resolves.toBeTruthy();
  });

  it("evalExports gives every design the nixos format renders, with the units its module adds", async () => {
    const exports = join(work, 'nixos-eval');
    mkdirSync(exports, { recursive: true });
    const format = exportFormats().find((f) => f.name === 'nixos')!;
    for (const design of format.designs) {
      const config = validateConfig({ ...defaultConfig(), design: { name: design, params: {} } });
      writeFileSync(join(exports, `${design}.nix`), format.render(config, 'localhost/v6lab-node:test', `pnpm lab export nixos ${design}`));
    }
    writeFileSync(join(exports, 'README'), 'not a module: left out');
    writeFileSync(join(work, 'nixpkgs.nix'), STUB_NIXPKGS);
    const expression = `((import ${FLAKE}).outputs { self = null; nixpkgs = import ${join(work, 'nixpkgs.nix')}; }).lib.evalExports ${exports}`;
    const units = JSON.parse((await run(nixEvalJsonArgv(expression), { timeoutMs: 30_000 })).stdout) as Record<string, Record<string, string>>;
    expect(Object.keys(units).sort()).toEqual([...format.designs].sort());
    expect(Object.keys(units['v6egress']!).sort()).toEqual(['podman-v6probe.service', 'v6egress-network.service']);
    expect(units['v6egress']!['v6egress-network.service']).toContain('podman network exists v6egress || podman network create --ipv6');
  });
});
