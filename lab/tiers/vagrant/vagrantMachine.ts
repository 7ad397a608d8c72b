/**
 * web-arm on the vagrant tier as a Machine: every command runs as root through `vagrant ssh`
 * (Vagrant's management NIC), with the lab's Vagrant environment, so the same verbs as on every
 * other machine work: succeed, fail, execute, waitUntilSucceeds.
 */
import { run } from '../../exec.ts';
import { expectedFailure, waitUntilCommandSucceeds, type Machine, type ShellAbility } from '../../nodes/machine.ts';
import type { LabPlan } from '../../topology/plan.ts';
import { vagrantArgv, vagrantEnv, type VagrantChoice } from './vagrantPlan.ts';

/** `env K=V … <argv>`: a command line that carries the lab's Vagrant environment by itself. */
export function withVagrantEnv(env: Record<string, string>, argv: string[]): string[] {
  return ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv];
}

/** The machine, its interactive shell (`vagrant ssh`), and the argv that runs one command in it. */
export type VagrantMachine = Machine & ShellAbility & { argvFor(command: string): string[] };

export function vagrantMachine(plan: LabPlan, choice: VagrantChoice): VagrantMachine {
  const env = vagrantEnv(plan, choice);
  const argvFor = (command: string) => withVagrantEnv(env, vagrantArgv.ssh(command));
  const machine: VagrantMachine = {
    name: plan.webArm.node,
    realism: 'real',
    argvFor,
    shellArgv: (extra = {}) => withVagrantEnv({ ...env, ...extra }, vagrantArgv.shell()),
    execute: (command, options = {}) => run(argvFor(command), { timeoutMs: options.timeoutMs ?? 120_000, input: options.input, allowFailure: true }),
    async succeed(command, options = {}) {
      return (await run(argvFor(command), { timeoutMs: options.timeoutMs ?? 120_000, input: options.input })).stdout;
    },
    async fail(command, options = {}) {
      return expectedFailure(`[${plan.webArm.node}] ${command}`, await machine.execute(command, options));
    },
    waitUntilSucceeds: (command, timeoutMs = 60_000) =>
      waitUntilCommandSucceeds(`[${plan.webArm.node}] ${command}`, (t) => machine.execute(command, { timeoutMs: t }), timeoutMs, 2_000),
  };
  return machine;
}
