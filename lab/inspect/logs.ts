/**
 * `lab logs`: where a name's log lives and how to read it. A host container (the upstream
 * router, the internet hosts; by node or container name) is the engine's container log, read
 * through dockerode on the engine socket the lab recorded; anything of web-arm's (web-arm
 * itself, a unit, a container of its podman) is found by web-arm's tier (WebArm.logs); web-arm's
 * serial console, where the tier has one, is read with `--console`.
 */
import Docker from 'dockerode';
import { existsSync } from 'node:fs';
import { LabStateError, UsageError } from '../errors.ts';
import { demuxDockerLogs, type LogChunk } from '../engine/logStream.ts';
import type { LabState } from '../state/store.ts';
import type { WebArm, WebArmLog } from '../tiers/tier.ts';

export interface HostContainerLog {
  node: string;
  containerName: string;
  socketPath: string;
}

export type LogSource = { kind: 'host-container'; log: HostContainerLog } | { kind: 'web-arm'; log: WebArmLog };

/** Finds a name's log: a host container first, then whatever web-arm's tier knows. */
export async function resolveLogSource(state: LabState, webArm: WebArm, target: string): Promise<LogSource> {
  const host = state.containers.find((c) => c.node === target || c.containerName === target);
  if (host) {
    if (!state.engine) throw new LabStateError(`lab "${state.name}" recorded no container engine`);
    return { kind: 'host-container', log: { node: host.node, containerName: host.containerName, socketPath: state.engine.socketPath } };
  }
  const log = await webArm.logs.find(target);
  if (log) return { kind: 'web-arm', log };
  const known = [...state.containers.map((c) => c.node), ...(await webArm.logs.known())];
  throw new UsageError(`Nothing named "${target}" has logs in lab "${state.name}". Known: ${[...new Set(known)].join(', ')}`);
}

/** A one-line description of where the log comes from (for stderr). */
export function describeSource(source: LogSource): string {
  return source.kind === 'host-container' ? `engine log of container ${source.log.containerName} (${source.log.socketPath})` : source.log.description;
}

function engine(socketPath: string): Docker {
  if (!existsSync(socketPath)) throw new LabStateError(`The lab's container engine socket ${socketPath} is gone. Fix: pnpm lab down, then pnpm lab up.`);
  return new Docker({ socketPath });
}

/** Reads the log once. `tail`: only the last lines (per source). */
export async function readLogs(source: LogSource, tail: number | undefined): Promise<LogChunk[]> {
  if (source.kind === 'web-arm') return source.log.read(tail);
  const buf = (await engine(source.log.socketPath)
    .getContainer(source.log.containerName)
    .logs({ stdout: true, stderr: true, follow: false, ...(tail !== undefined ? { tail } : {}) })) as unknown as Buffer;
  return demuxDockerLogs(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf)));
}

/** Streams a host container's log until the process is interrupted. */
export async function followHostContainer(log: HostContainerLog, tail: number | undefined): Promise<void> {
  const docker = engine(log.socketPath);
  const stream = await docker.getContainer(log.containerName).logs({ stdout: true, stderr: true, follow: true, ...(tail !== undefined ? { tail } : {}) });
  docker.modem.demuxStream(stream, process.stdout, process.stderr);
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
}

/** The argv that follows a web-arm log (for runInteractive); a UsageError where its tier cannot follow. */
export function followArgv(log: WebArmLog, tail: number | undefined): string[] {
  if (!log.followArgv) throw new UsageError(`--follow does not work here: ${log.whyNoFollow ?? 'this log cannot be followed'}`);
  return log.followArgv(tail);
}

/** web-arm's serial console (`lab logs web-arm --console`); a UsageError naming the tier's lack. */
export function consoleLog(webArm: WebArm, tail: number | undefined): { description: string; text: string } {
  if (!webArm.console) {
    throw new UsageError(`web-arm on the ${webArm.tier} tier has no serial console (only a VM has one). Fix: read its logs without --console, or use --host qemu.`);
  }
  const text = tail === 0 ? '' : webArm.console.consoleTail(tail ?? Number.POSITIVE_INFINITY);
  return { description: `web-arm's serial console (${webArm.console.consolePath})`, text: text === '' ? '' : `${text}\n` };
}
