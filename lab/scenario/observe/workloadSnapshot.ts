/**
 * web-arm's podman workload at one moment: every container (name, ID, start time, networks)
 * and the default network's definition. Compared by isolation and idempotency checks.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { succeedBatch } from '../../nodes/batch.ts';
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

/** The shell text printing `podman container inspect` of every container (running or not) as one JSON array ([] when there is none). */
const INSPECT_ALL_CONTAINERS = 'ids=$(podman ps -a -q --no-trunc); if [ -n "$ids" ]; then podman container inspect $ids; else echo "[]"; fi';

/** `podman container inspect` of every container of web-arm's podman (running or not), through its machine, in one round trip. */
export async function inspectAllContainers(webArm: Machine): Promise<PodmanInspect[]> {
  return JSON.parse(await webArm.succeed(INSPECT_ALL_CONTAINERS)) as PodmanInspect[];
}

function containerFacts(inspected: PodmanInspect[]): ContainerFacts[] {
  return inspected
    .map((info) => ({
      name: info.Name.replace(/^\//, ''),
      id: info.Id,
      startedAt: info.State.StartedAt,
      networks: Object.keys(info.NetworkSettings?.Networks ?? {}).sort(),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Every container of web-arm's podman (running or not) with the facts the checks compare. */
export async function inspectContainers(webArm: Machine): Promise<ContainerFacts[]> {
  return containerFacts(await inspectAllContainers(webArm));
}

/** The default network and every container, in one round trip (lab/nodes/batch.ts). */
export async function takeWorkloadSnapshot(webArm: Machine, label: string): Promise<WorkloadSnapshot> {
  const [defaultNetwork = '', containers = '[]'] = await succeedBatch(webArm, ['podman network inspect podman', INSPECT_ALL_CONTAINERS]);
  return { label, takenAt: new Date().toISOString(), containers: containerFacts(JSON.parse(containers) as PodmanInspect[]), defaultNetwork: defaultNetwork.trim() };
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
