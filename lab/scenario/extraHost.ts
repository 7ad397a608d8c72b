/**
 * A host of a scenario's own behind the upstream router (a namespace of the lab's, its `eth0` a
 * veth whose other end is a router port): made by the story, removed at its end. It carries the
 * lab's marks, so `lab down` removes it too should the story die half-way.
 */
import { nsenterArgv } from '../exec.ts';
import { createNetns, deleteNetns, netnsPath, sysctlIn } from '../links/netns.ts';
import { createVeth } from '../links/veth.ts';
import { createMachine, type EnteredMachine, type NamespaceAbility } from '../nodes/machine.ts';
import type { LabPlan } from '../topology/plan.ts';

export interface ExtraHost {
  machine: EnteredMachine & NamespaceAbility;
  /** The router's port to it. */
  routerPort: string;
  remove(): Promise<void>;
}

export async function addHostBehindRouter(plan: LabPlan, name: string): Promise<ExtraHost> {
  const ns = `${plan.netnsPrefix}${name}`;
  const path = netnsPath(ns);
  const machine = { ...createMachine({ name, enter: () => nsenterArgv({ net: path }, []) }), netnsPath: path };
  await deleteNetns(ns);
  await createNetns(ns);
  await sysctlIn(ns, { 'net.ipv6.conf.default.accept_dad': 0 });
  await createVeth(
    { netns: ns, tmpName: `${plan.linkPrefix}s0`, name: 'eth0' },
    { netns: plan.upstream.netnsName, tmpName: `${plan.linkPrefix}s1`, name },
    `v6lab:${plan.name}`,
  );
  return { machine, routerPort: name, remove: () => deleteNetns(ns) };
}
