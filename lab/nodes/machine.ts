/**
 * One verb-named API for every machine, whatever its backend (after the NixOS test driver):
 * succeed (throws on non-zero, returns stdout), fail, execute, waitUntilSucceeds; web-arm adds
 * waitForUnit and reboot. Nothing here is stubbed to throw: what only some machines can do (an
 * interactive shell, a network namespace on this machine for captures) is an ability of its own.
 */
import type { Realism } from '../report/model.ts';
import { CommandError, LabBrokenError } from '../errors.ts';
import { run, type RunResult } from '../exec.ts';
import type { Progress } from '../progress.ts';
import { waitUntil } from '../wait.ts';

export interface ExecuteOptions {
  timeoutMs?: number;
  input?: string;
}

export interface Machine {
  readonly name: string;
  /** Whether commands on this machine run the real thing (always, for the lab's own kernels). */
  readonly realism: Realism;
  execute(command: string, options?: ExecuteOptions): Promise<RunResult>;
  succeed(command: string, options?: ExecuteOptions): Promise<string>;
  fail(command: string, options?: ExecuteOptions): Promise<string>;
  waitUntilSucceeds(command: string, timeoutMs?: number): Promise<string>;
}

/** What a reboot showed: real or emulated, and what proves web-arm went down and came back. */
export interface RebootResult {
  realism: Realism;
  /** How it rebooted, in words ("systemctl reboot in the guest", "vagrant reload", …). */
  how: string;
  /** What identifies one boot ("boot id"; on the netns tier an emulated one). */
  identity: string;
  before: string;
  after: string;
  durationMs: number;
}

/** A machine with a service manager: web-arm on every tier. */
export interface SystemMachine extends Machine {
  /** Waits until the unit is active; a unit that fails fails the wait at once, with its status. */
  waitForUnit(unit: string, timeoutMs?: number): Promise<void>;
  /** Reboots the machine and waits until it is up again (multi-user.target, or its units started). */
  reboot(progress: Progress): Promise<RebootResult>;
}

/** Ability: an interactive shell from this machine (`lab shell`). */
export interface ShellAbility {
  shellArgv(env?: Record<string, string>): string[];
}

/** Ability: the machine's network namespace is one of this machine's (captures run inside it). */
export interface NamespaceAbility {
  readonly netnsPath: string;
}

export function hasShell<M extends Machine>(machine: M): machine is M & ShellAbility {
  return typeof (machine as Partial<ShellAbility>).shellArgv === 'function';
}

export function hasNamespace<M extends Machine>(machine: M): machine is M & NamespaceAbility {
  return typeof (machine as Partial<NamespaceAbility>).netnsPath === 'string';
}

export interface MachineSpec {
  name: string;
  /** argv prefix that enters the machine; the command follows as `sh -c <command>`. */
  enter: () => string[];
  env?: Record<string, string>;
}

export type EnteredMachine = Machine & ShellAbility;

/** A machine entered by an argv prefix (nsenter, ssh): every verb, and an interactive shell. */
export function createMachine(spec: MachineSpec): EnteredMachine {
  const envArgv = (extra: Record<string, string> = {}) => {
    const all = { ...spec.env, ...extra };
    return Object.keys(all).length ? ['env', ...Object.entries(all).map(([k, v]) => `${k}=${v}`)] : [];
  };
  const argvFor = (command: string) => [...spec.enter(), ...envArgv(), 'sh', '-c', command];
  const machine: EnteredMachine = {
    name: spec.name,
    realism: 'real',
    shellArgv: (env: Record<string, string> = {}) => [
      ...spec.enter(),
      ...envArgv(env),
      'sh',
      '-c',
      'if command -v bash >/dev/null 2>&1; then exec bash --norc --noprofile -i; else exec sh -i; fi',
    ],
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
      throw new LabBrokenError(`exit ${result.exitCode}: ${(result.stderr || result.stdout).trim()}`);
    },
    { timeoutMs, intervalMs },
  );
}

/**
 * `waitForUnit` on a machine with a real systemd: `systemctl is-active` until active; a unit
 * that fails fails the wait at once with its status.
 */
export async function waitForSystemdUnit(machine: Pick<Machine, 'name' | 'execute'>, unit: string, timeoutMs = 300_000): Promise<void> {
  const state = await waitUntil(
    `[${machine.name}] unit ${unit} to be active`,
    async () => {
      const result = await machine.execute(`systemctl is-active ${unit}`, { timeoutMs: 15_000 });
      const seen = result.stdout.trim();
      if (seen === 'active' || seen === 'failed') return seen;
      throw new LabBrokenError(`systemctl is-active ${unit}: ${seen || result.stderr.trim() || `exit ${result.exitCode}`}`);
    },
    { timeoutMs, intervalMs: 1_000 },
  );
  if (state === 'failed') {
    const status = await machine.execute(`systemctl status --no-pager --lines=20 ${unit}`, { timeoutMs: 15_000 });
    throw new LabBrokenError(`[${machine.name}] unit ${unit} failed instead of becoming active:\n${status.stdout.trim()}`);
  }
}
