/**
 * web-arm's podman workload at one moment: every container (name, ID, start time, networks)
 * and the default network's definition. Compared by isolation and idempotency checks.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { webArmDocker, webArmMachine } from '../nodes/webArm/webArm.ts';
import type { LabPlan } from '../topology/plan.ts';
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

export async function inspectContainers(plan: LabPlan): Promise<ContainerFacts[]> {
  const docker = webArmDocker(plan);
  const list = await docker.listContainers({ all: true });
  const facts = await Promise.all(
    list.map(async (c) => {
      const info = await docker.getContainer(c.Id).inspect();
      return {
        name: info.Name.replace(/^\//, ''),
        id: info.Id,
        startedAt: info.State.StartedAt,
        networks: Object.keys(info.NetworkSettings.Networks ?? {}).sort(),
      };
    }),
  );
  return facts.sort((a, b) => a.name.localeCompare(b.name));
}

export async function takeWorkloadSnapshot(plan: LabPlan, label: string): Promise<WorkloadSnapshot> {
  const defaultNetwork = await webArmMachine(plan).succeed('podman network inspect podman');
  return { label, takenAt: new Date().toISOString(), containers: await inspectContainers(plan), defaultNetwork: defaultNetwork.trim() };
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
