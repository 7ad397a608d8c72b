/**
 * The running topology: the plan, the applied design, and web-arm's podman networks and
 * containers as its API reports them (dockerode on web-arm's socket; networks through the
 * libpod endpoint, which names the default network "podman" and tells its bridge interface).
 * When web-arm's podman does not answer, the planned topology is returned and says so.
 */
import type Docker from 'dockerode';
import { inspectAllContainers } from '../scenario/observe/workloadSnapshot.ts';
import { attachWebArm } from '../tiers/registry.ts';
import type { Machine } from '../nodes/machine.ts';
import { compactPorts, plannedTopology, withLivePodman, type PodmanContainerFacts, type PodmanNetworkFacts, type TopologyFacts } from '../report/graph.ts';
import type { LabState } from '../state/store.ts';
import type { LabPlan } from '../topology/plan.ts';

interface LibpodNetwork {
  name: string;
  network_interface?: string;
  subnets?: Array<{ subnet: string; gateway?: string }>;
}

function libpodNetworks(docker: Docker): Promise<LibpodNetwork[]> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      { path: '/v4.0.0/libpod/networks/json', method: 'GET', statusCodes: { 200: true }, options: {} },
      (error: unknown, data: unknown) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(data as LibpodNetwork[])),
    );
  });
}

/** web-arm's podman networks and containers through its API (where this machine reaches the socket). */
export async function apiPodmanFacts(docker: Docker): Promise<TopologyFacts['podman']> {
  const networks: PodmanNetworkFacts[] = (await libpodNetworks(docker))
    .map((n) => ({ name: n.name, bridge: n.network_interface, subnets: (n.subnets ?? []).map((s) => s.subnet) }))
    .sort((a, b) => (a.name === 'podman' ? -1 : b.name === 'podman' ? 1 : a.name.localeCompare(b.name)));
  const list = await docker.listContainers({ all: true });
  const containers: PodmanContainerFacts[] = await Promise.all(
    list.map(async (c) => {
      const info = await docker.getContainer(c.Id).inspect();
      const nets = Object.entries(info.NetworkSettings.Networks ?? {}).map(([name, n]) => ({
        name,
        addresses: [n.IPAddress, n.GlobalIPv6Address].filter((a): a is string => Boolean(a)),
      }));
      return {
        name: info.Name.replace(/^\//, ''),
        networks: nets.sort((a, b) => a.name.localeCompare(b.name)),
        // The list's Ports collapse ranges on podman; the inspected bindings do not.
        published: compactPorts(
          Object.entries(info.NetworkSettings.Ports ?? {}).flatMap(([key, bindings]) =>
            (bindings ?? []).map((b) => ({ port: Number(b.HostPort), protocol: key.split('/')[1] ?? 'tcp' })),
          ),
        ),
      };
    }),
  );
  return { networks, containers };
}

/** The same facts from the qemu tier's guest, through its agent (podman's CLI there speaks the same JSON). */
export async function machinePodmanFacts(machine: Machine): Promise<TopologyFacts['podman']> {
  const networks: PodmanNetworkFacts[] = (JSON.parse(await machine.succeed('podman network ls --format json')) as LibpodNetwork[])
    .map((n) => ({ name: n.name, bridge: n.network_interface, subnets: (n.subnets ?? []).map((x) => x.subnet) }))
    .sort((a, b) => (a.name === 'podman' ? -1 : b.name === 'podman' ? 1 : a.name.localeCompare(b.name)));
  const infos = await inspectAllContainers(machine);
  const containers: PodmanContainerFacts[] = infos.map((info) => ({
    name: info.Name.replace(/^\//, ''),
    networks: Object.entries(info.NetworkSettings?.Networks ?? {})
      .map(([name, n]) => ({ name, addresses: [n.IPAddress, n.GlobalIPv6Address].filter((a): a is string => Boolean(a)) }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    published: compactPorts(
      Object.entries(info.NetworkSettings?.Ports ?? {}).flatMap(([key, bindings]) =>
        (bindings ?? []).map((b) => ({ port: Number(b.HostPort), protocol: key.split('/')[1] ?? 'tcp' })),
      ),
    ),
  }));
  return { networks, containers };
}

/** The topology of a lab that is up: live when web-arm's podman answers, else as planned. */
export async function labTopology(plan: LabPlan, state: LabState): Promise<TopologyFacts> {
  const planned = plannedTopology(plan, state.design?.plan);
  try {
    // Through podman's API where this machine reaches its socket, else through web-arm's machine (a guest).
    const webArm = attachWebArm(plan, state);
    const facts = webArm.podmanApi ? apiPodmanFacts(webArm.podmanApi()) : machinePodmanFacts(webArm.machine);
    return withLivePodman(planned, await withTimeout(facts, webArm.podmanApi ? 10_000 : 60_000));
  } catch {
    return planned;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
