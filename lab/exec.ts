/**
 * The only place that spawns processes. Every command is an argv array, has a timeout,
 * is recorded in the journal (command, exit code, stderr tail, duration) and fails with a
 * CommandError that says exactly what happened.
 */
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { CommandError, LabBrokenError, stderrTail } from './errors.ts';
import { epochNow, logTime } from './timeLog.ts';

export interface RunOptions {
  /** Milliseconds before the command is killed. Default 60 s. */
  timeoutMs?: number;
  /** Text fed to standard input. */
  input?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  signal?: AbortSignal;
  /** Return the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  /** Also copy the command's output to this process's stderr as it comes (progress). */
  echo?: boolean;
  /** Called with each complete line of the command's output (stdout and stderr) as it comes (progress). */
  onLine?: (line: string) => void;
  /**
   * The command is the lab's own code (vitest running the scenarios) that logs its own commands
   * and waits to the time log: its span is not logged as command time (lab/timeLog.ts).
   */
  selfTimed?: boolean;
}

export interface RunResult {
  command: string;
  argv: readonly string[];
  exitCode: number;
  signal: string | undefined;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface JournalEntry {
  command: string;
  exitCode: number | undefined;
  signal: string | undefined;
  durationMs: number;
  stderrTail: string;
}

type JournalListener = (entry: JournalEntry) => void;
const listeners = new Set<JournalListener>();
const journal: JournalEntry[] = [];
const JOURNAL_LIMIT = 2000;

/** Called after every command; the CLI's --verbose prints from here. */
export function onCommand(listener: JournalListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function recentCommands(): readonly JournalEntry[] {
  return journal;
}

/**
 * Records a command that ran elsewhere (in a guest, through its agent) in the same journal,
 * so --verbose and failure reports see it like a local one.
 */
export function recordRemote(result: Pick<RunResult, 'command' | 'exitCode' | 'signal' | 'durationMs' | 'stderr'>): void {
  const end = epochNow();
  logTime('command', end - result.durationMs, end);
  record({ command: result.command, exitCode: result.exitCode, signal: result.signal, durationMs: result.durationMs, stderrTail: stderrTail(result.stderr, 3) });
}

function record(entry: JournalEntry): void {
  journal.push(entry);
  if (journal.length > JOURNAL_LIMIT) journal.shift();
  for (const listener of listeners) listener(entry);
}

export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}

export async function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) throw new TypeError('run() needs a command');
  const command = formatArgv(argv);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const started = performance.now();
  const startedEpoch = epochNow();
  const subprocess = execa(file, args, {
    reject: false,
    timeout: timeoutMs,
    input: options.input,
    env: options.env,
    extendEnv: true,
    cwd: options.cwd,
    cancelSignal: options.signal,
    stripFinalNewline: false,
    forceKillAfterDelay: 2000,
  });
  if (options.echo) {
    subprocess.stdout?.on('data', (d: Buffer) => process.stderr.write(d));
    subprocess.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
  }
  if (options.onLine) {
    for (const stream of [subprocess.stdout, subprocess.stderr]) forEachLine(stream, options.onLine);
  }
  const result = await subprocess;
  const durationMs = Math.round(performance.now() - started);
  if (!options.selfTimed) logTime('command', startedEpoch, epochNow());
  const stdout = String(result.stdout ?? '');
  const stderr = String(result.stderr ?? '');
  const exitCode = typeof result.exitCode === 'number' ? result.exitCode : -1;
  const signal = result.signal ?? undefined;
  record({ command, exitCode: result.exitCode, signal, durationMs, stderrTail: stderrTail(stderr, 3) });
  if (result.isCanceled && options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
  const failed = result.failed || exitCode !== 0;
  if (failed && (!options.allowFailure || result.timedOut)) {
    throw new CommandError({
      command,
      exitCode: result.exitCode,
      signal,
      timedOut: Boolean(result.timedOut),
      timeoutMs,
      stdout,
      stderr: stderr || String(result.message ?? ''),
      durationMs,
    });
  }
  return { command, argv, exitCode, signal, stdout, stderr, durationMs };
}

/** Calls onLine with each complete line of a stream (a callback that throws is ignored). */
function forEachLine(stream: NodeJS.ReadableStream | null | undefined, onLine: (line: string) => void): void {
  if (!stream) return;
  let pending = '';
  stream.on('data', (d: Buffer) => {
    const lines = (pending + d.toString('utf8')).split(/\r?\n|\r/);
    pending = lines.pop() ?? '';
    for (const line of lines) {
      try {
        onLine(line);
      } catch {
        // progress only: never breaks the command
      }
    }
  });
}

/** Runs and returns trimmed stdout; throws CommandError on failure. */
export async function succeed(argv: readonly string[], options: RunOptions = {}): Promise<string> {
  const result = await run(argv, options);
  return result.stdout.trim();
}

/** True when the command exits 0; never throws for a non-zero exit. */
export async function probe(argv: readonly string[], options: RunOptions = {}): Promise<boolean> {
  const result = await run(argv, { ...options, allowFailure: true });
  return result.exitCode === 0;
}

export interface DaemonOptions {
  logFile: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/**
 * Starts a long-lived process detached from the lab (it outlives this Node process; `down`
 * finds it again by its mark). Output goes to logFile. Returns its pid.
 */
export function spawnDaemon(argv: readonly string[], options: DaemonOptions): number {
  const [file, ...args] = argv;
  if (!file) throw new TypeError('spawnDaemon() needs a command');
  const fd = openSync(options.logFile, 'a');
  try {
    const child = spawn(file, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
    });
    child.unref();
    child.on('error', () => undefined);
    record({ command: `${formatArgv(argv)} &`, exitCode: undefined, signal: undefined, durationMs: 0, stderrTail: '' });
    if (child.pid === undefined) throw new LabBrokenError(`could not start ${formatArgv(argv)}`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs a command attached to this terminal (stdin, stdout and stderr inherited), for
 * interactive use (`lab shell`, `lab logs --follow`). While it runs, Ctrl-C belongs to the
 * command: this process ignores SIGINT while it runs. Resolves to its exit code
 * (128 + signal number when killed by a signal).
 */
export async function runInteractive(argv: readonly string[], options: { env?: Record<string, string | undefined> } = {}): Promise<number> {
  const [file, ...args] = argv;
  if (!file) throw new TypeError('runInteractive() needs a command');
  const command = formatArgv(argv);
  const started = performance.now();
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  try {
    const { exitCode, signal } = await new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      const child = spawn(file, args, { stdio: 'inherit', env: { ...process.env, ...options.env } });
      child.once('error', reject);
      child.once('exit', (code, sig) => resolve({ exitCode: code, signal: sig }));
    });
    const code = exitCode ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
    record({ command, exitCode: code, signal: signal ?? undefined, durationMs: Math.round(performance.now() - started), stderrTail: '' });
    return code;
  } catch (error) {
    record({ command, exitCode: undefined, signal: undefined, durationMs: Math.round(performance.now() - started), stderrTail: String(error) });
    throw new CommandError({
      command,
      exitCode: undefined,
      signal: undefined,
      timedOut: false,
      stdout: '',
      stderr: (error as Error).message,
      durationMs: Math.round(performance.now() - started),
    });
  } finally {
    process.off('SIGINT', ignore);
  }
}

/** argv prefix that runs a command inside network (and optionally mount) namespaces. */
export function nsenterArgv(ns: { net?: string; mount?: string; pid?: number; all?: boolean }, argv: readonly string[]): string[] {
  const prefix = ['nsenter'];
  if (ns.pid !== undefined) {
    prefix.push(`--target=${ns.pid}`);
    if (ns.all) prefix.push('--net', '--mount', '--uts', '--ipc', '--pid');
    else prefix.push('--net');
  } else {
    if (ns.net) prefix.push(`--net=${ns.net}`);
    if (ns.mount) prefix.push(`--mount=${ns.mount}`);
  }
  return [...prefix, '--', ...argv];
}
