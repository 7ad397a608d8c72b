/**
 * A design's plan (the same DesignPlan the Debian rendering installs) read as the pieces of a
 * NixOS module: kernel sysctls, systemd services for the design's own units, and
 * oci-containers for its `podman-<name>.service` containers. Pure; module.ts prints it.
 *
 * Every file of the plan must land somewhere: sysctl.d files are the design's sysctls, a
 * script a unit runs with `/bin/sh <etc>/<file>` becomes that unit's `script`. Anything
 * else has no NixOS rendering yet and is refused with a ConfigError naming it.
 */
import type { DesignPlan, HostLayout } from '../designs/design.ts';
import { ConfigError } from '../errors.ts';
import { splitExecLine } from '../units/exec-line.ts';
import type { UnitSpec } from '../units/model.ts';

export type NixSysctlValue = boolean | number | string;

export interface NixosService {
  /** The attribute name under systemd.services: the unit name without `.service`. */
  name: string;
  description: string;
  wants: string[];
  requires: string[];
  after: string[];
  before: string[];
  partOf: string[];
  wantedBy: string[];
  type: string;
  remainAfterExit: boolean;
  /** The shell script NixOS runs as ExecStart (with podman on PATH). */
  script: string;
}

export interface NixosContainer {
  name: string;
  image: string;
  cmd: string[];
  ports: string[];
  extraOptions: string[];
  /** Dependencies beyond the ones NixOS's oci-containers unit has itself (the design's units). */
  unit: { wants: string[]; requires: string[]; after: string[]; before: string[] };
}

export interface NixosModuleModel {
  design: string;
  params: Record<string, unknown>;
  sysctls: Record<string, NixSysctlValue>;
  services: NixosService[];
  containers: NixosContainer[];
}

/** What NixOS's oci-containers unit already orders itself after (the Debian unit spells them out). */
const OCI_BUILTIN_DEPENDENCIES = new Set(['network-online.target', 'podman.service']);

/**
 * `podman run` options NixOS's oci-containers sets itself (ociContainer.ts writes them as its
 * module does): they are not extraOptions. `--pull` takes the next word (the pull policy).
 */
const OCI_IMPLIED_OPTIONS = [/^--rm$/, /^-d$/, /^--replace$/, /^--name=/, /^--log-driver=/, /^--cidfile=/, /^--cgroups=/, /^--sdnotify=/];

/** boot.kernel.sysctl's value for a sysctl.d value: booleans for 0/1 (NixOS writes them as 0/1), numbers, else strings. */
export function nixSysctlValue(value: string): NixSysctlValue {
  if (value === '1') return true;
  if (value === '0') return false;
  if (/^-?[1-9][0-9]{0,14}$/.test(value)) return Number(value);
  return value;
}

/** The sysctl.d value NixOS writes for a boot.kernel.sysctl value. */
export function sysctlFromNix(value: NixSysctlValue): string {
  if (value === true) return '1';
  if (value === false) return '0';
  return String(value);
}

/** POSIX shell quoting of one word (as a script line needs it). */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

export function nixosModuleModel(plan: DesignPlan, layout: HostLayout): NixosModuleModel {
  const usedFiles = new Set<string>();
  for (const file of Object.keys(plan.files)) if (file.startsWith('sysctl.d/')) usedFiles.add(file);
  const services: NixosService[] = [];
  const containers: NixosContainer[] = [];
  for (const unit of plan.units) {
    if (isOciContainerUnit(unit)) containers.push(ociContainerOf(unit, layout));
    else services.push(serviceOf(unit, plan, layout, usedFiles));
  }
  for (const file of Object.keys(plan.files)) {
    if (!usedFiles.has(file)) {
      throw new ConfigError(
        'design.name',
        plan.design,
        `its file ${file} has no NixOS rendering (only sysctl.d files and scripts run by the design's units have one)`,
        'export the v6egress design, or add a rendering of this file to lab/nixos/',
      );
    }
  }
  return {
    design: plan.design,
    params: plan.params,
    sysctls: Object.fromEntries(Object.entries(plan.sysctls).map(([k, v]) => [k, nixSysctlValue(v)])),
    services,
    containers,
  };
}

/** A `podman-<name>.service` unit rendered by ociContainerUnit() (it runs `podman run`). */
export function isOciContainerUnit(unit: UnitSpec): boolean {
  const first = unit.service.execStart[0];
  return /^podman-.+\.service$/.test(unit.name) && first !== undefined && /^podman run /.test(first);
}

function serviceOf(unit: UnitSpec, plan: DesignPlan, layout: HostLayout, usedFiles: Set<string>): NixosService {
  if (!unit.name.endsWith('.service')) {
    throw new ConfigError('design.name', plan.design, `its unit ${unit.name} is not a service`, 'render it to lab/nixos/ first');
  }
  const s = unit.service;
  for (const key of ['execStartPre', 'execStop', 'execStopPost'] as const) {
    if (s[key].length) throw new ConfigError('design.name', plan.design, `its unit ${unit.name} has ${key} lines, which have no NixOS rendering yet`, 'render them in lab/nixos/moduleModel.ts');
  }
  if (Object.keys(s.environment).length || s.restart !== undefined || s.timeoutStartSec !== undefined) {
    throw new ConfigError('design.name', plan.design, `its unit ${unit.name} has service settings with no NixOS rendering yet`, 'render them in lab/nixos/moduleModel.ts');
  }
  return {
    name: unit.name.slice(0, -'.service'.length),
    description: unit.description,
    wants: unit.wants,
    requires: unit.requires,
    after: unit.after,
    before: unit.before,
    partOf: unit.partOf,
    wantedBy: unit.wantedBy,
    type: s.type,
    remainAfterExit: s.remainAfterExit === true,
    script: s.execStart.map((line, i) => scriptLine(line, `${unit.name} ExecStart[${i}]`, plan, layout, usedFiles)).join(''),
  };
}

/** One ExecStart line as shell script text (ending with a line break). */
function scriptLine(line: string, field: string, plan: DesignPlan, layout: HostLayout, usedFiles: Set<string>): string {
  const exec = splitExecLine(line, field);
  const [program, ...args] = exec.argv;
  const shell = program === '/bin/sh' || program === 'sh';
  let text: string;
  if (shell && args[0] === '-c' && args.length === 2) {
    text = `${args[1]!}\n`;
  } else if (shell && args.length === 1 && args[0]!.startsWith(`${layout.etc}/`)) {
    const file = args[0]!.slice(layout.etc.length + 1);
    const content = plan.files[file];
    if (content === undefined) throw new ConfigError(field, line, `runs ${args[0]}, which the design does not write`, 'write the script as a design file');
    usedFiles.add(file);
    // NixOS runs `script` with its own shell and `set -e`; the shebang is a comment there.
    text = content.replace(/^#![^\n]*\n/, '');
    if (!text.endsWith('\n')) text += '\n';
  } else {
    text = `${exec.argv.map(shellWord).join(' ')}\n`;
  }
  if (exec.ignoreFailure) text = `( ${text.trimEnd()} ) || true\n`;
  return text;
}

/** An oci-containers entry from a `podman-<name>.service` unit (its `podman run` line read back). */
export function ociContainerOf(unit: UnitSpec, layout: HostLayout): NixosContainer {
  const line = unit.service.execStart[0]!;
  const field = `${unit.name} ExecStart[0]`;
  const argv = splitExecLine(line, field).argv;
  const at = argv.indexOf(layout.image, 2);
  if (at < 0) throw new ConfigError(field, line, `does not run the layout's image ${layout.image}`, 'render containers with ociContainerUnit()');
  const ports: string[] = [];
  const extraOptions: string[] = [];
  let name = unit.name.replace(/^podman-/, '').replace(/\.service$/, '');
  const options = argv.slice(2, at);
  for (let i = 0; i < options.length; i++) {
    const option = options[i]!;
    if (option.startsWith('--name=')) name = option.slice('--name='.length);
    if (OCI_IMPLIED_OPTIONS.some((re) => re.test(option))) continue;
    if (option === '--pull') {
      i++; // the module's own `--pull <policy>` (pull = "missing", its default)
      continue;
    }
    if (option === '-p' && i + 1 < options.length) ports.push(options[++i]!);
    else extraOptions.push(option);
  }
  const own = (list: string[]) => list.filter((u) => !OCI_BUILTIN_DEPENDENCIES.has(u));
  return {
    name,
    image: layout.image,
    cmd: argv.slice(at + 1),
    ports,
    extraOptions,
    unit: { wants: own(unit.wants), requires: own(unit.requires), after: own(unit.after), before: own(unit.before) },
  };
}
