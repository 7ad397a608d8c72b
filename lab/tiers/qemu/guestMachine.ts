/**
 * web-arm on the qemu tier as a Machine: the same verbs as every other machine, carried by the
 * guest agent (the guest has no second NIC and no login). One agent client per socket and
 * process: QEMU's agent channel serves one client at a time.
 */
import { GuestAgent } from './agent.ts';
import { vmNames, type VmNames } from './vm.ts';
import type { LabPlan } from '../../topology/plan.ts';
import type { Machine } from '../../nodes/machine.ts';

const agents = new Map<string, GuestAgent>();

/** The VM names of web-arm in a lab: its tap is the upstream router's port to web-arm. */
export function webArmVmNames(plan: LabPlan): VmNames {
  return vmNames(plan.name, plan.webArm.node, { netns: plan.upstream.netnsName, port: plan.upstream.toWebArmIf });
}

export function agentSocketPath(names: VmNames): string {
  return `${names.runDir}/qga.sock`;
}

/** The process-wide agent client of a VM. */
export function guestAgent(names: VmNames): GuestAgent {
  const socket = agentSocketPath(names);
  let agent = agents.get(socket);
  if (!agent) {
    agent = new GuestAgent(names.name, socket);
    agents.set(socket, agent);
  }
  return agent;
}

/** Drops the process-wide client of a VM (after its QEMU is gone). */
export function forgetGuestAgent(names: VmNames): void {
  const socket = agentSocketPath(names);
  agents.get(socket)?.close();
  agents.delete(socket);
}

/** web-arm's machine on the qemu tier: every verb through the guest agent. */
export function guestMachine(plan: LabPlan): Machine {
  const agent = guestAgent(webArmVmNames(plan));
  return {
    name: plan.webArm.node,
    realism: 'real',
    execute: (command, options = {}) => agent.execute(command, { timeoutMs: options.timeoutMs ?? 60_000, input: options.input }),
    succeed: (command, options = {}) => agent.succeed(command, { timeoutMs: options.timeoutMs ?? 60_000, input: options.input }),
    fail: (command, options = {}) => agent.fail(command, { timeoutMs: options.timeoutMs ?? 60_000, input: options.input }),
    waitUntilSucceeds: (command, timeoutMs) => agent.waitUntilSucceeds(command, timeoutMs),
  };
}
