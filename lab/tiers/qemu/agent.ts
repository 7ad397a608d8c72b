/**
 * A client for the QEMU guest agent on the VM's virtio-serial socket: the lab's only way into
 * the guest (no second NIC). One request at a time; every request has a timeout, and a
 * timed-out or broken exchange is followed by a resynchronisation (guest-sync-delimited)
 * before the next one. Commands read like the NixOS test driver's: execute, succeed, fail,
 * waitUntilSucceeds, waitForUnit.
 */
import type { Socket } from 'node:net';
import { CommandError, LabBrokenError } from '../../errors.ts';
import { formatArgv, recordRemote, type RunResult } from '../../exec.ts';
import { waitUntil } from '../../wait.ts';
import { connectUnixSocket } from './unixSocket.ts';
import { expectedFailure, waitForSystemdUnit, waitUntilCommandSucceeds } from '../../nodes/machine.ts';
import {
  AgentDecoder,
  type AgentResponse,
  decodeExecStatus,
  describeAgentError,
  encodeCommand,
  encodeSync,
  guestExecArgs,
  isSyncReply,
  parseExecPid,
} from './agentProtocol.ts';

export class AgentError extends LabBrokenError {
  constructor(message: string) {
    super(message);
    this.name = 'AgentError';
  }
}

export interface AgentExecOptions {
  timeoutMs?: number;
  input?: string;
}

/** How long an idle connection to the agent is kept before it is closed for other clients. */
const IDLE_CLOSE_MS = 300;
/**
 * The longest pause between two guest-exec-status polls (they start at 50 ms and double). Each
 * poll is one short agent exchange; a command is seen to end up to this late. Measured through
 * the agent under TCG (8 runs each, three guests on 2 cores): `podman ps` 1388 ms median with a
 * 500 ms cap, 1112–1193 ms with 200 ms; `true` ~210–260 ms either way.
 */
const STATUS_POLL_CAP_MS = 200;

type Waiter = { accept: (r: AgentResponse) => boolean; resolve: (r: AgentResponse) => void };

export class GuestAgent {
  readonly name: string;
  readonly socketPath: string;
  #socket: Socket | undefined;
  #decoder = new AgentDecoder();
  #waiter: Waiter | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #synced = false;
  #nextId = Math.floor(Math.random() * 1_000_000) + 1;
  #pending = 0;
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(name: string, socketPath: string) {
    this.name = name;
    this.socketPath = socketPath;
  }

  async #connect(timeoutMs: number): Promise<Socket> {
    if (this.#socket && !this.#socket.destroyed) return this.#socket;
    this.#decoder = new AgentDecoder();
    this.#synced = false;
    const socket = await connectUnixSocket(this.socketPath, timeoutMs, (problem) => new AgentError(`[${this.name}] guest agent: ${problem}`));
    socket.on('data', (chunk: Buffer) => {
      for (const message of this.#decoder.push(chunk)) {
        if (message.kind !== 'response') continue;
        const waiter = this.#waiter;
        if (waiter?.accept(message.value)) {
          this.#waiter = undefined;
          waiter.resolve(message.value);
        }
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.#socket === socket) {
        this.#socket = undefined;
        this.#synced = false;
      }
    });
    this.#socket = socket;
    return socket;
  }

  /** Sends bytes and waits for the first response `accept` takes, or times out. */
  async #exchange(what: string, bytes: Buffer, accept: (r: AgentResponse) => boolean, timeoutMs: number): Promise<AgentResponse> {
    const socket = await this.#connect(Math.min(timeoutMs, 5_000));
    return new Promise<AgentResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        this.#synced = false;
        reject(new AgentError(`[${this.name}] guest agent did not answer ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiter = {
        accept,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      socket.write(bytes);
    });
  }

  /**
   * One exchange at a time. When nothing is queued for a moment the socket is closed: QEMU's
   * agent chardev serves one client at a time, so another process of the lab (a scenario
   * worker, `lab exec`) can only get in once this one lets go.
   */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    this.#pending++;
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    const next = this.#queue.then(fn, fn);
    this.#queue = next.catch(() => undefined);
    const settled = () => {
      this.#pending--;
      if (this.#pending === 0) {
        this.#idleTimer = setTimeout(() => {
          if (this.#pending === 0) this.close();
        }, IDLE_CLOSE_MS);
        this.#idleTimer.unref();
      }
    };
    next.then(settled, settled);
    return next;
  }

  async #sync(timeoutMs: number): Promise<void> {
    const id = this.#nextId++;
    await this.#exchange('guest-sync-delimited', encodeSync(id), (r) => isSyncReply(r, id), timeoutMs);
    this.#synced = true;
  }

  /** Resynchronises with the agent (drops whatever stale output the stream held). */
  sync(timeoutMs = 5_000): Promise<void> {
    return this.#serial(() => this.#sync(timeoutMs));
  }

  /** One agent command; its `return` value, or an AgentError naming the agent's error. */
  command(execute: string, args?: Record<string, unknown>, timeoutMs = 10_000): Promise<unknown> {
    return this.#serial(async () => {
      if (!this.#synced) await this.#sync(Math.min(timeoutMs, 5_000));
      // Without ids, the next response after a sync is the answer to this command.
      const response = await this.#exchange(execute, encodeCommand(execute, args), () => true, timeoutMs);
      const error = describeAgentError(response);
      if (error) throw new AgentError(`[${this.name}] ${execute}: ${error}`);
      return response.return;
    });
  }

  /** Waits until the agent answers (the guest has booted far enough to start it). */
  async waitForAgent(timeoutMs: number): Promise<void> {
    await waitUntil(
      `[${this.name}] the guest agent to answer on ${this.socketPath}`,
      async () => {
        await this.sync(3_000);
        return true;
      },
      { timeoutMs, intervalMs: 500 },
    );
  }

  /**
   * Runs argv in the guest (guest-exec, then guest-exec-status until it exits). The command
   * runs under coreutils `timeout` in the guest, so a timed-out command does not linger.
   */
  async execArgv(argv: readonly string[], options: AgentExecOptions = {}): Promise<RunResult> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const command = `[${this.name}] ${formatArgv(argv)}`;
    const started = performance.now();
    const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    const guarded = ['/usr/bin/timeout', '-k', '2', String(seconds), ...argv];
    const pid = parseExecPid(await this.command('guest-exec', { ...guestExecArgs(guarded, options.input) }, 15_000));
    const deadline = started + timeoutMs + 5_000;
    let interval = 50;
    for (;;) {
      const status = decodeExecStatus(await this.command('guest-exec-status', { pid }, 15_000));
      const durationMs = Math.round(performance.now() - started);
      if (status.exited) {
        // coreutils timeout exits 124 (or 137 after -k) when it had to stop the command.
        const timedOut = status.exitCode === 124 || status.exitCode === 137;
        const exitCode = status.exitCode ?? (status.signal !== undefined ? 128 + status.signal : -1);
        recordRemote({ command, exitCode, signal: status.signal !== undefined ? `signal ${status.signal}` : undefined, durationMs, stderr: status.stderr });
        if (timedOut) {
          throw new CommandError({ command, exitCode, signal: undefined, timedOut: true, timeoutMs, stdout: status.stdout, stderr: status.stderr, durationMs });
        }
        return {
          command,
          argv,
          exitCode,
          signal: status.signal !== undefined ? `signal ${status.signal}` : undefined,
          stdout: status.stdout,
          stderr: status.stderr,
          durationMs,
        };
      }
      if (performance.now() > deadline) {
        throw new CommandError({ command, exitCode: undefined, signal: undefined, timedOut: true, timeoutMs, stdout: '', stderr: 'guest-exec-status never reported an exit', durationMs });
      }
      await new Promise((r) => setTimeout(r, interval));
      interval = Math.min(interval * 2, STATUS_POLL_CAP_MS);
    }
  }

  /** A shell command in the guest; never throws for a non-zero exit. */
  execute(command: string, options: AgentExecOptions = {}): Promise<RunResult> {
    return this.execArgv(['/bin/sh', '-c', command], options);
  }

  /** A shell command that must succeed; returns its stdout. */
  async succeed(command: string, options: AgentExecOptions = {}): Promise<string> {
    const result = await this.execute(command, options);
    if (result.exitCode !== 0) {
      throw new CommandError({ command: result.command, exitCode: result.exitCode, signal: result.signal, timedOut: false, stdout: result.stdout, stderr: result.stderr, durationMs: result.durationMs });
    }
    return result.stdout;
  }

  /** A shell command that must fail; returns its output. */
  async fail(command: string, options: AgentExecOptions = {}): Promise<string> {
    const result = await this.execute(command, options);
    return expectedFailure(result.command, result);
  }

  waitUntilSucceeds(command: string, timeoutMs = 30_000): Promise<string> {
    return waitUntilCommandSucceeds(`[${this.name}] ${command}`, (t) => this.execute(command, { timeoutMs: t }), timeoutMs, 500);
  }

  /** Waits until `systemctl is-active <unit>` says active (a failed unit fails the wait at once). */
  waitForUnit(unit: string, timeoutMs = 300_000): Promise<void> {
    return waitForSystemdUnit(this, unit, timeoutMs);
  }

  /** Asks the guest to power off; the agent does not answer this one. */
  async shutdown(mode: 'powerdown' | 'reboot' = 'powerdown'): Promise<void> {
    await this.#serial(async () => {
      if (!this.#synced) await this.#sync(5_000);
      const socket = await this.#connect(5_000);
      socket.write(encodeCommand('guest-shutdown', { mode }));
      this.#synced = false;
    });
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
    this.#synced = false;
  }
}
