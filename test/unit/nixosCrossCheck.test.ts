/**
 * The two renderings of a design cannot drift apart: from the same design data, the Debian
 * units (what the netns and qemu tiers install) and the NixOS module text (what `lab export
 * nixos` prints) carry the same network name, subnets, unit ordering, sysctls and probe.
 * The module text is read twice: by a small reader of the lines the printer writes (always),
 * and by nix-instantiate itself, parsed and evaluated (where Debian's nix-bin is installed).
 */
import { describe, expect, it } from 'vitest';
import type { HostLayout } from '../../lab/designs/design.ts';
import { renderBaseSystem } from '../../lab/designs/baseSystem.ts';
import { planDesign } from '../../lab/designs/registry.ts';
import { renderSystem } from '../../lab/designs/system.ts';
import { nixosLayout, renderNixosModule } from '../../lab/nixos/module.ts';
import { sysctlFromNix, type NixSysctlValue } from '../../lab/nixos/moduleModel.ts';
import { evalNixJson, hasNixInstantiate, parseNixText } from '../../lab/nixos/nixInstantiate.ts';
import { GUEST_PODMAN_SOCKET } from '../../lab/tiers/qemu/webArmSystem.ts';
import { defaultConfig, type LabConfig } from '../../lab/topology/config.ts';
import { splitExecLine } from '../../lab/units/exec-line.ts';
import type { UnitSpec } from '../../lab/units/model.ts';
import { titleOrSkipReason } from './helpers/golden.ts';

const IMAGE = 'localhost/v6lab-node:0123456789ab';

const DEBIAN_LAYOUTS: Record<string, HostLayout> = {
  'qemu guest (real systemd)': { etc: '/etc', podmanSocket: GUEST_PODMAN_SOCKET, image: IMAGE, networkConfigDir: '/etc/containers/networks', systemd: 'real' },
  'netns (emulated systemd)': {
    etc: '/run/v6lab/main/web-arm/etc',
    podmanSocket: '/run/v6lab/main/web-arm/podman.sock',
    image: IMAGE,
    networkConfigDir: '/run/v6lab/main/web-arm/etc/containers/networks',
    systemd: 'emulated',
  },
};

const PARAM_SETS: Record<string, Record<string, unknown>> = {
  defaults: {},
  'other names and subnets': { networkName: 'egress6', ipv4Subnet: '10.77.0.0/24', ipv6Subnet: 'fd12:3456:789a::/64', probeName: 'p6', probePort: 9090 },
  'strictEnsure and reloadNetworksAfterFirewall': { strictEnsure: true, reloadNetworksAfterFirewall: true },
};

/** What both renderings must agree on. */
interface Facts {
  network: string;
  subnets: string[];
  ensureUnit: { name: string; wants: string[]; after: string[]; before: string[]; wantedBy: string[]; type: string; remainAfterExit: boolean };
  sysctls: Record<string, string>;
  probe: { name: string; network: string; unit: string; requires: string[]; after: string[] };
  /** Every design service (not a container) with its ordering. */
  services: Record<string, { wants: string[]; requires: string[]; after: string[]; before: string[]; partOf: string[] }>;
}

function configWith(params: Record<string, unknown>): LabConfig {
  const config = defaultConfig();
  config.design.params = params;
  return config;
}

function subnetsIn(script: string): string[] {
  return [...new Set([...script.matchAll(/--subnet (\S+)/g)].map((m) => m[1]!))].sort();
}

function parseSysctlFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([^#=\s][^=]*?)\s*=\s*(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** The facts of the Debian rendering: the installed units and files, read back. */
function debianFacts(config: LabConfig, layout: HostLayout): Facts {
  const system = renderSystem(config, layout, planDesign(config, layout));
  const base = renderBaseSystem(config, layout);
  const baseUnits = new Set(base.units.map((u) => u.name));
  const designUnits = system.units.filter((u) => !baseUnits.has(u.name) && u.name !== 'systemd-sysctl.service');
  const probeUnit = designUnits.find((u) => (u.service.execStart[0] ?? '').startsWith('podman run '))!;
  const probeArgv = splitExecLine(probeUnit.service.execStart[0]!).argv;
  const network = probeArgv.find((a) => a.startsWith('--network='))!.slice('--network='.length);
  const ensure = designUnits.find((u) => u.name === `${network}-network.service`)!;
  const ensureArgv = splitExecLine(ensure.service.execStart[0]!).argv;
  // `/bin/sh -c '<command>'`, or `/bin/sh <etc>/<script>` (strictEnsure): read the script file.
  const script = ensureArgv[1] === '-c' ? ensureArgv[2]! : system.files[ensureArgv[1]!.slice(layout.etc.length + 1)]!;
  const sysctls: Record<string, string> = {};
  for (const [file, text] of Object.entries(system.files)) {
    if (file.startsWith('sysctl.d/') && !(file in base.files)) Object.assign(sysctls, parseSysctlFile(text));
  }
  const own = (list: string[]) => list.filter((u) => u !== 'network-online.target' && u !== 'podman.service');
  return {
    network,
    subnets: subnetsIn(script),
    ensureUnit: {
      name: ensure.name,
      wants: ensure.wants,
      after: ensure.after,
      before: ensure.before,
      wantedBy: ensure.wantedBy,
      type: ensure.service.type,
      remainAfterExit: ensure.service.remainAfterExit === true,
    },
    sysctls,
    probe: { name: probeArgv.find((a) => a.startsWith('--name='))!.slice('--name='.length), network, unit: probeUnit.name, requires: own(probeUnit.requires), after: own(probeUnit.after) },
    services: Object.fromEntries(
      designUnits
        .filter((u) => u !== probeUnit)
        .map((u: UnitSpec) => [u.name, { wants: u.wants, requires: u.requires, after: u.after, before: u.before, partOf: u.partOf }]),
    ),
  };
}

/** The module as nix evaluates it (the module's `config` argument stubbed), or as the line reader reads it. */
interface NixModuleValue {
  boot: { kernel: { sysctl: Record<string, NixSysctlValue> } };
  virtualisation: {
    podman: { enable: boolean };
    'oci-containers': { backend: string; containers: Record<string, { image: string; cmd?: string[]; extraOptions?: string[] }> };
  };
  systemd: {
    services: Record<
      string,
      {
        wants?: string[];
        requires?: string[];
        after?: string[];
        before?: string[];
        partOf?: string[];
        wantedBy?: string[];
        serviceConfig?: { Type?: string; RemainAfterExit?: boolean };
        script?: string;
      }
    >;
  };
}

/**
 * Reads the module text as the printer lays it out: `  a.b.c = value;` at the top level,
 * `    key = value;` inside an attribute set, `serviceConfig` one level deeper, indented scripts.
 * Values: strings, lists of strings, booleans, numbers.
 */
function readModuleText(text: string): NixModuleValue {
  const root: Record<string, unknown> = {};
  const setPath = (obj: Record<string, unknown>, path: string[], value: unknown) => {
    let node = obj;
    for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[path.at(-1)!] = value;
  };
  const attrPath = (p: string) => [...p.matchAll(/"((?:[^"\\]|\\.)*)"|([^.]+)/g)].map((m) => (m[1] !== undefined ? (JSON.parse(`"${m[1]}"`) as string) : m[2]!));
  const value = (v: string): unknown => {
    if (v === 'true' || v === 'false') return v === 'true';
    if (/^-?\d+$/.test(v)) return Number(v);
    if (v.startsWith('"')) return JSON.parse(v.replaceAll('\\$', '$')) as string;
    if (v.startsWith('[')) return [...v.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].filter((m) => m[0] !== '[' && m[0] !== ']').map((m) => (m[1] !== undefined ? (JSON.parse(`"${m[1]}"`) as string) : m[2]!));
    return { unevaluated: v };
  };
  const lines = text.split('\n');
  const stack: Array<{ indent: number; path: string[] }> = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*#/.test(line) || line.trim() === '' || !line.startsWith('  ')) continue;
    const indent = /^ */.exec(line)![0].length;
    while (stack.length && stack.at(-1)!.indent >= indent) stack.pop();
    const prefix = stack.at(-1)?.path ?? [];
    if (/^\s*};$/.test(line)) continue;
    const m = /^\s*(.+?) = (.*)$/.exec(line)!;
    const path = [...prefix, ...attrPath(m[1]!)];
    if (m[2] === '{') {
      stack.push({ indent, path });
    } else if (m[2] === "''") {
      const body: string[] = [];
      for (i++; !/^\s*'';$/.test(lines[i]!); i++) body.push(lines[i]!.slice(indent + 2));
      setPath(root, path, `${body.join('\n')}\n`);
    } else {
      setPath(root, path, value(m[2]!.replace(/;$/, '')));
    }
  }
  return root as unknown as NixModuleValue;
}

/** The facts of the NixOS module, from its (evaluated or read) value. */
function nixFacts(module: NixModuleValue): Facts {
  const containers = Object.entries(module.virtualisation['oci-containers'].containers);
  expect(containers, 'one probe container').toHaveLength(1);
  const [probeName, probe] = containers[0]!;
  const network = probe.extraOptions!.find((o) => o.startsWith('--network='))!.slice('--network='.length);
  const services = module.systemd.services;
  const ensure = services[`${network}-network`]!;
  const probeUnit = services[`podman-${probeName}`] ?? {};
  return {
    network,
    subnets: subnetsIn(ensure.script!),
    ensureUnit: {
      name: `${network}-network.service`,
      wants: ensure.wants ?? [],
      after: ensure.after ?? [],
      before: ensure.before ?? [],
      wantedBy: ensure.wantedBy ?? [],
      type: ensure.serviceConfig!.Type!,
      remainAfterExit: ensure.serviceConfig!.RemainAfterExit === true,
    },
    sysctls: Object.fromEntries(Object.entries(module.boot.kernel.sysctl).map(([k, v]) => [k, sysctlFromNix(v)])),
    probe: { name: probeName, network, unit: `podman-${probeName}.service`, requires: probeUnit.requires ?? [], after: probeUnit.after ?? [] },
    services: Object.fromEntries(
      Object.entries(services)
        .filter(([name]) => name !== `podman-${probeName}`)
        .map(([name, s]) => [`${name}.service`, { wants: s.wants ?? [], requires: s.requires ?? [], after: s.after ?? [], before: s.before ?? [], partOf: s.partOf ?? [] }]),
    ),
  };
}

function nixModuleText(config: LabConfig): string {
  const layout = nixosLayout(IMAGE);
  return renderNixosModule(planDesign(config, layout), layout, 'pnpm lab export nixos v6egress');
}

describe('the Debian units and the NixOS module carry the same design', () => {
  for (const [label, params] of Object.entries(PARAM_SETS)) {
    for (const [layoutLabel, layout] of Object.entries(DEBIAN_LAYOUTS)) {
      it(`${label}, against the ${layoutLabel} rendering`, () => {
        const config = configWith(params);
        const debian = debianFacts(config, layout);
        const module = readModuleText(nixModuleText(config));
        expect(nixFacts(module)).toEqual(debian);
        expect(module.virtualisation.podman.enable).toBe(true);
        expect(module.virtualisation['oci-containers'].backend).toBe('podman');
        // The facts are the design's, not an accident of reading.
        const p = { networkName: 'v6egress', ipv4Subnet: '10.89.0.0/24', ipv6Subnet: 'fdaa:bbcc:ddee::/64', probeName: 'v6probe', ...params };
        expect(debian.network).toBe(p.networkName);
        expect(debian.subnets).toEqual([p.ipv4Subnet, p.ipv6Subnet].sort());
        expect(debian.ensureUnit.before).toEqual([`podman-${p.probeName}.service`]);
        expect(debian.ensureUnit.wants).toContain('podman.service');
        expect(debian.ensureUnit.after).toContain('podman.service');
        expect(debian.probe).toMatchObject({ name: p.probeName, requires: [`${p.networkName}-network.service`], after: [`${p.networkName}-network.service`] });
        expect(debian.sysctls).toEqual({ 'net.ipv6.conf.all.forwarding': '1' });
      });
    }
  }
});

const nix = await hasNixInstantiate();

describe.skipIf(!nix)(titleOrSkipReason('nix-instantiate reads the module', nix, 'nix-instantiate is not installed; apt-get install nix-bin'), () => {
  for (const [label, params] of Object.entries(PARAM_SETS)) {
    it(`${label}: parses, and evaluates to the same design as the Debian units`, async () => {
      const config = configWith(params);
      const text = nixModuleText(config);
      expect(await parseNixText(text)).toMatch(/^\(\{ config, \.\.\. \}: /);
      const evaluated = (await evalNixJson(text, (file) => `import ${file} { config = { virtualisation.podman.package = "<podman>"; }; }`)) as NixModuleValue;
      expect(nixFacts(evaluated)).toEqual(debianFacts(config, DEBIAN_LAYOUTS['qemu guest (real systemd)']!));
      // What nix evaluates is what the line reader reads (scripts included), but for the
      // module argument nix resolved.
      const read = readModuleText(text) as unknown as { systemd: { services: Record<string, Record<string, unknown>> } };
      for (const s of Object.values(read.systemd.services)) if ('path' in s) s.path = ['<podman>'];
      expect(evaluated).toEqual(read);
    });
  }
});
