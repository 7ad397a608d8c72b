/**
 * web-arm's podman workload at one moment: every container (name, ID, start time, networks)
 * and the default network's definition. Compared by isolation and idempotency checks.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Machine } from '../../nodes/machine.ts';
import { snapshotDir } from './hostSnapshot.ts';

export interface ContainerFacts {
  name: string;
  id: string;
  startedAt: string;
  networks: string[];
}

export interface WorkloadSnapshot {
  label: string;
  takenAt: string;
  containers: ContainerFacts[];
  /** `podman network inspect podman`, as JSON text. */
  defaultNetwork: string;
}

/** What `podman container inspect` says of a container, as far as the lab reads it. */
export interface PodmanInspect {
  Name: string;
  Id: string;
  State: { StartedAt: string };
  NetworkSettings?: {
    Networks?: Record<string, { IPAddress?: string; GlobalIPv6Address?: string }>;
    Ports?: Record<string, Array<{ HostPort: string }> | null>;
  };
}

/** `podman container inspect` of every container of web-arm's podman (running or not), through its machine. */
export async function inspectAllContainers(webArm: Machine): Promise<PodmanInspect[]> {
  const ids = (await webArm.succeed('podman ps -a -q --no-trunc')).split('\n').filter(Boolean);
  return ids.length ? (JSON.parse(await webArm.succeed(`podman container inspect ${ids.join(' ')}`)) as PodmanInspect[]) : [];
}

/** Every container of web-arm's podman (running or not) with the facts the checks compare. */
export async function inspectContainers(webArm: Machine): Promise<ContainerFacts[]> {
  return (await inspectAllContainers(webArm))
    .map((info) => ({
      name: info.Name.replace(/^\//, ''),
      id: info.Id,
      startedAt: info.State.StartedAt,
      networks: Object.keys(info.NetworkSettings?.Networks ?? {}).sort(),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export async function takeWorkloadSnapshot(webArm: Machine, label: string): Promise<WorkloadSnapshot> {
  const defaultNetwork = await webArm.succeed('podman network inspect podman');
  return { label, takenAt: new Date().toISOString(), containers: await inspectContainers(webArm), defaultNetwork: defaultNetwork.trim() };
}

export function saveWorkloadSnapshot(stateDir: string, snapshot: WorkloadSnapshot): void {
  mkdirSync(snapshotDir(stateDir), { recursive: true });
  writeFileSync(join(snapshotDir(stateDir), `workload-${snapshot.label}.json`), `${JSON.stringify(snapshot, null, 2)}\n`);
}

export function loadWorkloadSnapshot(stateDir: string, label: string): WorkloadSnapshot | undefined {
  const file = join(snapshotDir(stateDir), `workload-${label}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as WorkloadSnapshot) : undefined;
}

/** The newest of the given snapshots (the baseline of the current boot). */
export function latestWorkloadSnapshot(stateDir: string, labels: string[]): WorkloadSnapshot | undefined {
  return labels
    .map((l) => loadWorkloadSnapshot(stateDir, l))
    .filter((s): s is WorkloadSnapshot => Boolean(s))
    .sort((a, b) => a.takenAt.localeCompare(b.takenAt))
    .at(-1);
}
