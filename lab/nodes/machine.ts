/**
 * One verb-named API for every machine, whatever its backend (after the NixOS test driver):
 * succeed (throws on non-zero, returns stdout), fail, execute, waitUntilSucceeds.
 * A machine is a name plus the argv prefix that enters it.
 */
import type { Realism, Tier } from '../report/model.ts';
import { CommandError } from '../errors.ts';
import { run, type RunResult } from '../exec.ts';
import { waitUntil } from '../wait.ts';

export interface ExecuteOptions {
  timeoutMs?: number;
  input?: string;
}

export interface Machine {
  readonly name: string;
  readonly tier: Tier;
  /** Whether commands on this machine run the real thing (always, for the netns tier's kernels). */
  readonly realism: Realism;
  /** Path of this machine's network namespace on the host (for captures and tools). */
  readonly netnsPath: string;
  /** The argv that runs a shell command inside the machine. */
  argvFor(command: string): string[];
  /** The argv of an interactive login-less shell inside the machine (bash when there, else sh). */
  shellArgv(env?: Record<string, string>): string[];
  execute(command: string, options?: ExecuteOptions): Promise<RunResult>;
  succeed(command: string, options?: ExecuteOptions): Promise<string>;
  fail(command: string, options?: ExecuteOptions): Promise<string>;
  waitUntilSucceeds(command: string, timeoutMs?: number): Promise<string>;
}

export interface MachineSpec {
  name: string;
  tier: Tier;
  netnsPath: string;
  /** argv prefix that enters the machine; the command follows as `sh -c <command>`. */
  enter: () => string[];
  env?: Record<string, string>;
}

export function createMachine(spec: MachineSpec): Machine {
  const envArgv = (extra: Record<string, string> = {}) => {
    const all = { ...spec.env, ...extra };
    return Object.keys(all).length ? ['env', ...Object.entries(all).map(([k, v]) => `${k}=${v}`)] : [];
  };
  const argvFor = (command: string) => [...spec.enter(), ...envArgv(), 'sh', '-c', command];
  const shellArgv = (env: Record<string, string> = {}) => [
    ...spec.enter(),
    ...envArgv(env),
    'sh',
    '-c',
    'if command -v bash >/dev/null 2>&1; then exec bash --norc --noprofile -i; else exec sh -i; fi',
  ];
  const machine: Machine = {
    name: spec.name,
    tier: spec.tier,
    realism: 'real',
    netnsPath: spec.netnsPath,
    argvFor,
    shellArgv,
    execute(command, options = {}) {
      return run(argvFor(command), { timeoutMs: options.timeoutMs ?? 60_000, input: options.input, allowFailure: true });
    },
    async succeed(command, options = {}) {
      const result = await run(argvFor(command), { timeoutMs: options.timeoutMs ?? 60_000, input: options.input });
      return result.stdout;
    },
    async fail(command, options = {}) {
      return expectedFailure(`[${spec.name}] ${command}`, await machine.execute(command, options));
    },
    waitUntilSucceeds(command, timeoutMs = 30_000) {
      return waitUntilCommandSucceeds(`[${spec.name}] ${command}`, (t) => machine.execute(command, { timeoutMs: t }), timeoutMs, 250);
    },
  };
  return machine;
}

/** `fail`: the output of a command that had to fail; a CommandError when it succeeded. Shared by every machine kind. */
export function expectedFailure(label: string, result: RunResult): string {
  if (result.exitCode === 0) {
    throw new CommandError({
      command: `${label} (expected to fail, but it succeeded)`,
      exitCode: 0,
      signal: undefined,
      timedOut: false,
      stdout: result.stdout,
      stderr: result.stderr,
      durationMs: result.durationMs,
    });
  }
  return result.stderr || result.stdout;
}

/** `waitUntilSucceeds`: retries a command (each try bounded to 15 s) until it exits 0; returns its stdout. */
export function waitUntilCommandSucceeds(
  label: string,
  execute: (tryTimeoutMs: number) => Promise<RunResult>,
  timeoutMs: number,
  intervalMs: number,
): Promise<string> {
  return waitUntil(
    label,
    async () => {
      const result = await execute(Math.min(timeoutMs, 15_000));
      if (result.exitCode === 0) return result.stdout;
      throw new Error(`exit ${result.exitCode}: ${(result.stderr || result.stdout).trim()}`);
    },
    { timeoutMs, intervalMs },
  );
}
