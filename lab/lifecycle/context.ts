/**
 * The running lab as machines (NixOS-test-driver style), for scenarios and inspection verbs.
 */
import { LabStateError, UsageError } from '../errors.ts';
import type { DesignPlan } from '../designs/design.ts';
import { hostContainerMachine } from '../nodes/hostContainers.ts';
import type { Machine } from '../nodes/machine.ts';
import { webArmSystem } from '../nodes/webArmSystem.ts';
import { requireUpState, type LabState } from '../state/store.ts';
import { planLab, type LabPlan } from '../topology/plan.ts';

export interface LabContext {
  state: LabState;
  plan: LabPlan;
  design: DesignPlan;
  webArm: Machine;
  upstream: Machine;
  v6OnlyTarget: Machine;
  v4OnlyTarget: Machine;
  dns: Machine;
  internetClient: Machine;
  /** mx.example: the dual-stack mail exchanger (an SMTP sink on port 25 logging to seen.log). */
  mx: Machine;
  machine(node: string): Machine;
}

export function openLab(name: string): LabContext {
  const state = requireUpState(name);
  const plan = planLab(state.config);
  if (!state.design) throw new LabStateError(`lab "${name}" has no design applied`);
  const machines = new Map<string, Machine>();
  machines.set('web-arm', webArmSystem(plan).machine);
  for (const c of state.containers) machines.set(c.node, hostContainerMachine(c.node, c.pid, c.netnsName));
  const get = (node: string): Machine => {
    const m = machines.get(node);
    if (!m) throw new UsageError(`No node "${node}" in lab "${name}". Nodes: ${[...machines.keys()].join(', ')}. Fix: name one of them (pnpm lab status${name === 'main' ? '' : ` --name ${name}`} shows each with its addresses)`);
    return m;
  };
  return {
    state,
    plan,
    design: state.design.plan,
    webArm: get('web-arm'),
    upstream: get('upstream'),
    v6OnlyTarget: get('v6only-target'),
    v4OnlyTarget: get('v4only-target'),
    dns: get('dns'),
    internetClient: get('internet-client'),
    mx: get('mx'),
    machine: get,
  };
}
