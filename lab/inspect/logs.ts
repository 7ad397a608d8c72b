/**
 * `lab logs`: where a name's log lives and how to read it.
 *   - a host container (upstream, the internet hosts; by node or container name): the engine's
 *     container log, through dockerode on the engine socket the lab recorded;
 *   - a container of web-arm's podman (collabora, v6probe, …): `podman logs` inside web-arm;
 *   - a unit of web-arm's emulated systemd (`podman.service`): its log file under web-arm's
 *     run directory; `web-arm` alone: every unit log, each line prefixed with its unit;
 *   - on the qemu tier, web-arm's real journal (`web-arm`: this boot's; a unit: its lines) and
 *     its containers' `podman logs`, read through the guest agent.
 */
import Docker from 'dockerode';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabStateError, UsageError } from '../errors.ts';
import { run } from '../exec.ts';
import { demuxDockerLogs, tailLines, type LogChunk } from '../engine/logStream.ts';
import { installedUnits } from '../tiers/netns/unitRunner.ts';
import { webArmArgv, webArmDocker } from '../tiers/netns/webArm.ts';
import { attachWebArm } from '../tiers/registry.ts';
import type { Machine } from '../nodes/machine.ts';
import type { LabState } from '../state/store.ts';
import type { LabPlan } from '../topology/plan.ts';

export type LogSource =
  | { kind: 'host-container'; node: string; containerName: string; socketPath: string }
  | { kind: 'web-arm-container'; container: string }
  | { kind: 'web-arm-unit'; unit: string; file: string }
  | { kind: 'web-arm-units'; units: Array<{ unit: string; file: string }> }
  | { kind: 'guest-journal'; unit?: string }
  | { kind: 'guest-container'; container: string };

export function unitLogDir(plan: LabPlan): string {
  return join(plan.webArm.runDir, 'log');
}

/** Units of web-arm that have a log file (long-running ones; oneshots keep none). */
export function unitLogs(plan: LabPlan): Array<{ unit: string; file: string }> {
  const dir = unitLogDir(plan);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort()
    .map((f) => ({ unit: f.slice(0, -'.log'.length), file: join(dir, f) }));
}

/** Names of the containers in web-arm's podman; empty when its API does not answer. */
export async function webArmContainerNames(plan: LabPlan): Promise<string[]> {
  try {
    const list = await webArmDocker(plan).listContainers({ all: true });
    return list.flatMap((c) => c.Names.map((n) => n.replace(/^\//, ''))).sort();
  } catch {
    return [];
  }
}

export async function resolveLogSource(state: LabState, plan: LabPlan, target: string): Promise<LogSource> {
  const host = state.containers.find((c) => c.node === target || c.containerName === target);
  if (host) {
    if (!state.engine) throw new LabStateError(`lab "${state.name}" recorded no container engine`);
    return { kind: 'host-container', node: host.node, containerName: host.containerName, socketPath: state.engine.socketPath };
  }
  // A web-arm with a real systemd (the qemu tier's guests, the vagrant tier's VM): its journal and podman.
  const webArm = attachWebArm(plan, state);
  if (webArm.capabilities.realSystemd) return resolveGuestLogSource(state, plan, webArm.machine, target);
  if (target === plan.webArm.node) return { kind: 'web-arm-units', units: unitLogs(plan) };
  const units = unitLogs(plan);
  const unit = units.find((u) => u.unit === target || u.unit === `${target}.service`);
  if (unit) return { kind: 'web-arm-unit', ...unit };
  const containers = await webArmContainerNames(plan);
  if (containers.includes(target)) return { kind: 'web-arm-container', container: target };
  const installed = [...installedUnits(plan).keys()];
  if (installed.includes(target) || installed.includes(`${target}.service`)) {
    const name = installed.includes(target) ? target : `${target}.service`;
    const container = /^podman-(.+)\.service$/.exec(name)?.[1];
    throw new UsageError(
      `web-arm's ${name} keeps no log: it is a oneshot, and the emulated systemd has no journal.` +
        (container ? ` Its container's log: pnpm lab logs ${container}${state.name === 'main' ? '' : ` --name ${state.name}`}` : ''),
    );
  }
  const known = [
    ...state.containers.map((c) => c.node),
    plan.webArm.node,
    ...containers.map((c) => `${c} (web-arm container)`),
    ...units.map((u) => `${u.unit} (web-arm unit)`),
  ];
  throw new UsageError(`Nothing named "${target}" has logs in lab "${state.name}". Known: ${known.join(', ')}`);
}

async function resolveGuestLogSource(state: LabState, plan: LabPlan, machine: Machine, target: string): Promise<LogSource> {
  if (target === plan.webArm.node) return { kind: 'guest-journal' };
  const containers = (await machine.succeed("podman ps -a --format '{{.Names}}'")).split('\n').filter(Boolean).sort();
  if (containers.includes(target)) return { kind: 'guest-container', container: target };
  const units = (await machine.succeed('systemctl list-units --all --plain --no-legend --type=service')).split('\n').map((l) => l.trim().split(/\s+/)[0]!).filter(Boolean);
  const unit = units.find((u) => u === target || u === `${target}.service`);
  if (unit) return { kind: 'guest-journal', unit };
  const known = [...state.containers.map((c) => c.node), plan.webArm.node, ...containers.map((c) => `${c} (web-arm container)`), 'any web-arm unit'];
  throw new UsageError(`Nothing named "${target}" has logs in lab "${state.name}". Known: ${known.join(', ')}`);
}

/** A one-line description of where the log comes from (for stderr). */
export function describeSource(source: LogSource): string {
  switch (source.kind) {
    case 'host-container':
      return `engine log of container ${source.containerName} (${source.socketPath})`;
    case 'web-arm-container':
      return `podman logs ${source.container} (inside web-arm)`;
    case 'web-arm-unit':
      return `web-arm unit ${source.unit} (${source.file})`;
    case 'web-arm-units':
      return `web-arm's unit logs: ${source.units.map((u) => u.unit).join(', ') || 'none'}`;
    case 'guest-journal':
      return `web-arm's journal of this boot${source.unit ? ` for ${source.unit}` : ''} (read in the guest)`;
    case 'guest-container':
      return `podman logs ${source.container} (inside the web-arm guest)`;
  }
}

function engine(socketPath: string): Docker {
  if (!existsSync(socketPath)) throw new LabStateError(`The lab's container engine socket ${socketPath} is gone. Fix: pnpm lab down, then pnpm lab up.`);
  return new Docker({ socketPath });
}

/** Reads the log once. `tail`: only the last lines (per source). `webArm`: the machine a journal is read from. */
export async function readLogs(plan: LabPlan, source: LogSource, tail: number | undefined, webArm: Machine): Promise<LogChunk[]> {
  switch (source.kind) {
    case 'host-container': {
      const buf = (await engine(source.socketPath)
        .getContainer(source.containerName)
        .logs({ stdout: true, stderr: true, follow: false, ...(tail !== undefined ? { tail } : {}) })) as unknown as Buffer;
      return demuxDockerLogs(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf)));
    }
    case 'web-arm-container': {
      const result = await run(webArmArgv(plan, ['podman', 'logs', ...(tail !== undefined ? ['--tail', String(tail)] : []), source.container]), {
        timeoutMs: 60_000,
      });
      return [
        { stream: 'stdout' as const, text: result.stdout },
        { stream: 'stderr' as const, text: result.stderr },
      ].filter((c) => c.text !== '');
    }
    case 'web-arm-unit':
      return [{ stream: 'stdout', text: tailLines(readFileSync(source.file, 'utf8'), tail) }];
    case 'web-arm-units':
      return [{ stream: 'stdout', text: source.units.map((u) => prefixLines(`${u.unit}: `, tailLines(readFileSync(u.file, 'utf8'), tail))).join('') }];
    case 'guest-journal':
    case 'guest-container': {
      const n = tail !== undefined ? String(tail) : undefined;
      const command =
        source.kind === 'guest-journal'
          ? `journalctl -b --no-pager -o short-iso${source.unit ? ` -u '${source.unit}'` : ''}${n ? ` -n ${n}` : ''}`
          : `podman logs${n ? ` --tail ${n}` : ''} '${source.container}'`;
      const result = await webArm.execute(command, { timeoutMs: 60_000 });
      return [
        { stream: 'stdout' as const, text: result.stdout },
        { stream: 'stderr' as const, text: result.stderr },
      ].filter((c) => c.text !== '');
    }
  }
}

function prefixLines(prefix: string, text: string): string {
  return text
    .split('\n')
    .filter((l, i, all) => l !== '' || i < all.length - 1)
    .map((l) => `${prefix}${l}\n`)
    .join('');
}

/** Streams a host container's log until the process is interrupted. */
export async function followHostContainer(source: Extract<LogSource, { kind: 'host-container' }>, tail: number | undefined): Promise<void> {
  const docker = engine(source.socketPath);
  const stream = await docker.getContainer(source.containerName).logs({ stdout: true, stderr: true, follow: true, ...(tail !== undefined ? { tail } : {}) });
  docker.modem.demuxStream(stream, process.stdout, process.stderr);
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
}

/** The argv that follows a web-arm container's or unit's log (for runInteractive). */
export function followArgv(plan: LabPlan, source: LogSource, tail: number | undefined): string[] {
  const n = tail === undefined ? [] : ['-n', String(tail)];
  switch (source.kind) {
    case 'web-arm-container':
      return webArmArgv(plan, ['podman', 'logs', '--follow', ...(tail !== undefined ? ['--tail', String(tail)] : []), source.container]);
    case 'web-arm-unit':
      return ['tail', ...n, '-F', source.file];
    case 'web-arm-units':
      return ['tail', ...n, '-F', ...source.units.map((u) => u.file)];
    case 'host-container':
      throw new TypeError('host containers are followed through the engine API');
    case 'guest-journal':
    case 'guest-container':
      throw new UsageError("--follow does not work on a guest's journal or containers: they are read through the guest (its agent returns a command's output when it ends). Read the log without --follow (--tail N for the last lines).");
  }
}
