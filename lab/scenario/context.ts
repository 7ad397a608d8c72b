/**
 * The running lab as a scenario sees it (NixOS-test-driver style): its machines, web-arm's
 * capabilities, the design as applied, and what a story may do to the lab — apply (a variant
 * of) the design, restart, stop or start a unit, reboot — plus the baselines the lifecycle took.
 * Scenarios reach the lab through this, never through the lifecycle, links or tiers behind it.
 */
import type { DesignPlan } from '../designs/design.ts';
import { LabStateError, UsageError } from '../errors.ts';
import { applyDesign, type ApplyResult } from '../lifecycle/apply.ts';
import { rebootWebArm, type LabRebootResult } from '../lifecycle/reboot.ts';
import { hostContainerMachine } from '../nodes/hostContainers.ts';
import { hasNamespace, type Machine, type SystemMachine } from '../nodes/machine.ts';
import { startCapture, type RunningCapture } from './capture.ts';
import { addHostBehindRouter, type ExtraHost } from './extraHost.ts';

export type { Machine, SystemMachine };
import { silentProgress } from '../progress.ts';
import { requireUpState, type LabState } from '../state/store.ts';
import { attachWebArm } from '../tiers/registry.ts';
import type { Capabilities, WebArm } from '../tiers/tier.ts';
import type { LabConfig } from '../topology/config.ts';
import { planLab, type LabPlan } from '../topology/plan.ts';
import type { StartResult } from '../units/results.ts';
import { baselineLabel, type BaselineMoment } from './baselineTypes.ts';
import { loadSnapshot, type HostSnapshot } from './observe/hostSnapshot.ts';
import { loadMailObservation, observeMailPath, type MailPathObservation } from './observe/mailPath.ts';
import { sendMailFromContainer, type ContainerMailObservation, type SmtpAddressOrder } from './observe/mailFromContainer.ts';
import { loadWorkloadSnapshot, type WorkloadSnapshot } from './observe/workloadSnapshot.ts';

export interface LabContext {
  state: LabState;
  plan: LabPlan;
  design: DesignPlan;
  /** What web-arm can do on this lab's tier. */
  capabilities: Capabilities;
  webArm: SystemMachine;
  upstream: Machine;
  v6OnlyTarget: Machine;
  v4OnlyTarget: Machine;
  dns: Machine;
  internetClient: Machine;
  /** mx.example: the dual-stack mail exchanger (an SMTP sink on port 25 logging to seen.log). */
  mx: Machine;
  machine(node: string): Machine;
  /**
   * Applies the design again (optionally a variant of the lab's config), like `lab apply`.
   * Failed units are returned (tolerateFailures, the default) or thrown.
   */
  apply(change?: (config: LabConfig) => void, options?: { tolerateFailures?: boolean }): Promise<ApplyResult>;
  /** Starts a capture (tcpdump, immediate mode) on an interface of a node whose namespace is on this machine. */
  capture(node: string, iface: string, file: string, filter?: string[]): Promise<RunningCapture>;
  /** A host of the story's own behind the router (removed by the story; by `lab down` if it dies). */
  addHostBehindRouter(name: string): Promise<ExtraHost>;
  restartUnit(unit: string): Promise<StartResult>;
  stopUnit(unit: string): Promise<void>;
  startUnit(unit: string): Promise<StartResult>;
  /** Reboots web-arm as its tier does (real or emulated: the result says) and takes the after-reboot baselines. */
  reboot(): Promise<LabRebootResult>;
  /** Sends a probe mail from web-arm's postfix to mx.example now and reads what the sink saw. */
  observeMailPath(label: string): Promise<MailPathObservation>;
  /** Sends a probe mail from a container (through `exec`, the design probe's) straight to mx.example as `sender`, the MX's address picked in `order`, and reads what the sink saw. */
  sendMailFromContainer(exec: string, sender: string, order: SmtpAddressOrder): Promise<ContainerMailObservation>;
  baseline: {
    host(moment: BaselineMoment): HostSnapshot | undefined;
    workload(moment: BaselineMoment): WorkloadSnapshot | undefined;
    mail(moment: BaselineMoment): MailPathObservation | undefined;
  };
}

/** The scenario context of a lab that is up. */
export function openLab(name: string): LabContext {
  const state = requireUpState(name);
  const plan = planLab(state.config);
  if (!state.design) throw new LabStateError(`lab "${name}" has no design applied. Fix: pnpm lab apply${name === 'main' ? '' : ` --name ${name}`}`);
  const system: WebArm = attachWebArm(plan, state);
  const machines = new Map<string, Machine>();
  machines.set(plan.webArm.node, system.machine);
  for (const c of state.containers) machines.set(c.node, hostContainerMachine(c.node, c.pid, c.netnsName));
  const get = (node: string): Machine => {
    const m = machines.get(node);
    if (!m) throw new UsageError(`No node "${node}" in lab "${name}". Nodes: ${[...machines.keys()].join(', ')}. Fix: name one of them (pnpm lab status${name === 'main' ? '' : ` --name ${name}`} shows each with its addresses)`);
    return m;
  };
  const image = state.image?.tag ?? '';
  return {
    state,
    plan,
    design: state.design.plan,
    capabilities: system.capabilities,
    webArm: system.machine,
    upstream: get('upstream'),
    v6OnlyTarget: get('v6only-target'),
    v4OnlyTarget: get('v4only-target'),
    dns: get('dns'),
    internetClient: get('internet-client'),
    mx: get('mx'),
    machine: get,
    apply(change, options = {}) {
      const config = structuredClone(state.config);
      change?.(config);
      return applyDesign(system, config, image, silentProgress, { tolerateFailures: options.tolerateFailures ?? true });
    },
    capture(node, iface, file, filter = []) {
      const machine = get(node);
      if (!hasNamespace(machine)) throw new UsageError(`${node} has no network namespace on this machine (a VM): capture on the router's side of its link`);
      return startCapture(machine.netnsPath, iface, file, filter);
    },
    addHostBehindRouter: (hostName) => addHostBehindRouter(plan, hostName),
    restartUnit: (unit) => system.restart(unit, silentProgress),
    stopUnit: (unit) => system.stop(unit, silentProgress),
    startUnit: (unit) => system.start(unit, silentProgress),
    reboot: () => rebootWebArm(name, silentProgress),
    observeMailPath: (label) => observeMailPath(state.config, system.machine, get('mx'), label),
    sendMailFromContainer: (exec, sender, order) => sendMailFromContainer(state.config, system.machine, get('mx'), exec, sender, order),
    baseline: {
      host: (moment) => loadSnapshot(plan.stateDir, baselineLabel(moment)),
      workload: (moment) => loadWorkloadSnapshot(plan.stateDir, baselineLabel(moment)),
      mail: (moment) => loadMailObservation(plan.stateDir, baselineLabel(moment)),
    },
  };
}
