/**
 * The upstream router and the internet hosts: containers started through testcontainers on
 * the host engine, network mode `none`, wired by the lab. Each carries the lab's labels and
 * its network namespace gets a name (v6lab-<lab>-<node>) so tools and cleanup find it.
 */
import type Docker from 'dockerode';
import { attachNetns, netnsPath } from '../links/netns.ts';
import type { Engine } from '../engine/engine.ts';
import { loadTestcontainers } from '../engine/testcontainers.ts';
import { LABEL_LAB, LABEL_NODE } from '../topology/plan.ts';
import { nsenterArgv } from '../exec.ts';
import { createMachine, type EnteredMachine, type NamespaceAbility } from './machine.ts';

export interface HostContainerSpec {
  lab: string;
  node: string;
  containerName: string;
  netnsName: string;
  image: string;
  command: string[];
}

export interface StartedHostContainer {
  node: string;
  containerName: string;
  id: string;
  pid: number;
  netnsName: string;
}

export async function startHostContainer(engine: Engine, spec: HostContainerSpec): Promise<StartedHostContainer> {
  const { GenericContainer, PullPolicy } = await loadTestcontainers(engine);
  await removeContainerByName(engine.docker, spec.containerName);
  const started = await new GenericContainer(spec.image)
    .withName(spec.containerName)
    .withNetworkMode('none')
    .withHostname(spec.node)
    .withAddedCapabilities('NET_ADMIN', 'NET_RAW', 'NET_BIND_SERVICE')
    .withLabels({ [LABEL_LAB]: spec.lab, [LABEL_NODE]: spec.node })
    .withCommand(spec.command)
    .withPullPolicy(PullPolicy.defaultPolicy())
    .withStartupTimeout(60_000)
    .start();
  const id = started.getId();
  const info = await engine.docker.getContainer(id).inspect();
  const pid = info.State.Pid;
  await attachNetns(spec.netnsName, pid);
  return { node: spec.node, containerName: spec.containerName, id, pid, netnsName: spec.netnsName };
}

async function removeContainerByName(docker: Docker, name: string): Promise<void> {
  try {
    await docker.getContainer(name).remove({ force: true });
  } catch {
    // not there: fine
  }
}

/** Every container of the lab on the engine, found by label. */
export async function listLabContainers(docker: Docker, lab: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${LABEL_LAB}=${lab}`] } });
}

/** Removes every container of the lab (by label); already gone is success. Returns their names and IDs. */
export async function removeLabContainers(docker: Docker, lab: string): Promise<{ names: string[]; ids: string[] }> {
  const containers = await listLabContainers(docker, lab);
  await Promise.all(
    containers.map(async (c) => {
      try {
        await docker.getContainer(c.Id).remove({ force: true, v: true });
      } catch {
        // gone meanwhile
      }
    }),
  );
  return { names: containers.map((c) => (c.Names[0] ?? c.Id).replace(/^\//, '')), ids: containers.map((c) => c.Id) };
}

/** A machine that runs commands inside a host container (all its namespaces) by its pid; captures run in its namespace. */
export function hostContainerMachine(name: string, pid: number, netnsName: string): EnteredMachine & NamespaceAbility {
  return {
    ...createMachine({ name, enter: () => nsenterArgv({ pid, all: true }, []) }),
    netnsPath: netnsPath(netnsName),
  };
}
