/**
 * A small client for QEMU's monitor protocol (QMP) on the VM's unix socket: the machine-side
 * control of a VM (pause, continue, migrate to a file, ask where a migration is), as the guest
 * agent is the guest-side one. One command at a time, each with a timeout and an id that its
 * answer carries; asynchronous events are skipped. The socket serves one client at a time
 * (server=on,wait=off), so a client is opened for a task and closed after it.
 *
 * The framing is the agent's (whole JSON objects in a byte stream: AgentDecoder); QMP's first
 * message is a greeting, and `qmp_capabilities` leaves negotiation mode.
 */
import type { Socket } from 'node:net';
import { LabBrokenError } from '../../errors.ts';
import { waitUntil } from '../../wait.ts';
import { connectUnixSocket } from './unixSocket.ts';
import { AgentDecoder, type AgentResponse, describeAgentError } from './agentProtocol.ts';

export class QmpError extends LabBrokenError {
  constructor(message: string) {
    super(message);
    this.name = 'QmpError';
  }
}

/** A QMP command with an id its answer echoes. Pure. */
export function encodeQmpCommand(execute: string, id: string, args?: Record<string, unknown>): Buffer {
  return Buffer.from(`${JSON.stringify(args === undefined ? { execute, id } : { execute, arguments: args, id })}\r\n`);
}

/** What kind of QMP message a decoded object is. Pure. */
export function qmpMessageKind(message: AgentResponse): 'greeting' | 'event' | 'answer' | 'other' {
  if ('QMP' in message) return 'greeting';
  if (typeof message.event === 'string') return 'event';
  if ('return' in message || 'error' in message) return 'answer';
  return 'other';
}

/** The states of a migration `query-migrate` reports (either end). */
export type MigrationStatus =
  | 'none' | 'setup' | 'cancelling' | 'cancelled' | 'active' | 'postcopy-active' | 'postcopy-paused'
  | 'postcopy-recover' | 'completed' | 'failed' | 'colo' | 'pre-switchover' | 'device' | 'wait-unplug';

export interface MigrationInfo {
  status: MigrationStatus;
  /** Why it failed (QEMU's own words), when it did. */
  errorDesc?: string;
  /** Bytes of RAM sent (the source's view). */
  transferredBytes?: number;
  totalTimeMs?: number;
}

/** `query-migrate`'s answer, as far as the lab reads it. A migration never started has no status: "none". Pure. */
export function parseMigrationInfo(value: unknown): MigrationInfo {
  const v = (value ?? {}) as { status?: string; 'error-desc'?: string; ram?: { transferred?: number }; 'total-time'?: number };
  return {
    status: (v.status ?? 'none') as MigrationStatus,
    ...(v['error-desc'] ? { errorDesc: v['error-desc'] } : {}),
    ...(typeof v.ram?.transferred === 'number' ? { transferredBytes: v.ram.transferred } : {}),
    ...(typeof v['total-time'] === 'number' ? { totalTimeMs: v['total-time'] } : {}),
  };
}

/** Whether a migration is over, and how. Pure. */
export function migrationOutcome(info: MigrationInfo): 'done' | 'failed' | 'running' {
  if (info.status === 'completed') return 'done';
  if (info.status === 'failed' || info.status === 'cancelled' || info.status === 'cancelling') return 'failed';
  return 'running';
}

/** The migration itself failed (QEMU said so): for an incoming one, the saved state cannot be loaded. */
export class MigrationFailedError extends QmpError {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationFailedError';
  }
}

type Waiter = { id: string; resolve: (r: AgentResponse) => void; reject: (e: Error) => void };

export class QmpClient implements AsyncDisposable {
  readonly name: string;
  readonly socketPath: string;
  #socket: Socket;
  #decoder = new AgentDecoder();
  #waiter: Waiter | undefined;
  #greeting: Promise<AgentResponse>;
  #nextId = 1;
  #closed = false;

  private constructor(name: string, socketPath: string, socket: Socket) {
    this.name = name;
    this.socketPath = socketPath;
    this.#socket = socket;
    let gotGreeting: (r: AgentResponse) => void = () => undefined;
    this.#greeting = new Promise((resolve) => {
      gotGreeting = resolve;
    });
    socket.on('data', (chunk: Buffer) => {
      for (const message of this.#decoder.push(chunk)) {
        if (message.kind !== 'response') continue;
        const kind = qmpMessageKind(message.value);
        if (kind === 'greeting') gotGreeting(message.value);
        else if (kind === 'answer' && this.#waiter && message.value.id === this.#waiter.id) {
          const waiter = this.#waiter;
          this.#waiter = undefined;
          waiter.resolve(message.value);
        }
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#closed = true;
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter?.reject(new QmpError(`[${this.name}] QMP socket ${this.socketPath} closed (QEMU exited?)`));
    });
  }

  /** Connects, reads the greeting and leaves negotiation mode. */
  static async connect(name: string, socketPath: string, timeoutMs = 10_000): Promise<QmpClient> {
    const socket = await connectUnixSocket(socketPath, timeoutMs, (problem) => new QmpError(`[${name}] QMP: ${problem}`));
    const client = new QmpClient(name, socketPath, socket);
    try {
      await Promise.race([
        client.#greeting,
        new Promise((_, reject) => setTimeout(() => reject(new QmpError(`[${name}] no QMP greeting on ${socketPath} within ${timeoutMs} ms`)), timeoutMs).unref()),
      ]);
      await client.execute('qmp_capabilities', undefined, timeoutMs);
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }

  /** One command; its `return` value, or a QmpError with QEMU's description. */
  execute(command: string, args?: Record<string, unknown>, timeoutMs = 10_000): Promise<unknown> {
    if (this.#closed) return Promise.reject(new QmpError(`[${this.name}] QMP socket ${this.socketPath} is closed`));
    if (this.#waiter) return Promise.reject(new QmpError(`[${this.name}] QMP: ${command} sent while ${this.#waiter.id} is unanswered`));
    const id = `v6lab-${this.#nextId++}`;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(new QmpError(`[${this.name}] QMP did not answer ${command} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiter = {
        id,
        resolve: (r) => {
          clearTimeout(timer);
          const error = describeAgentError(r);
          if (error) reject(new QmpError(`[${this.name}] QMP ${command}: ${error}`));
          else resolve(r.return);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.#socket.write(encodeQmpCommand(command, id, args));
    });
  }

  async status(): Promise<{ status: string; running: boolean }> {
    const v = (await this.execute('query-status')) as { status?: string; running?: boolean };
    return { status: v.status ?? 'unknown', running: Boolean(v.running) };
  }

  async migration(): Promise<MigrationInfo> {
    return parseMigrationInfo(await this.execute('query-migrate'));
  }

  /**
   * Waits until the migration (outgoing or incoming) completed; fails at once when it failed or
   * QEMU went away (its socket closed), not at the timeout.
   */
  async waitForMigration(what: string, timeoutMs: number): Promise<MigrationInfo> {
    let broken: Error | undefined;
    const info = await waitUntil(
      `[${this.name}] ${what}`,
      async () => {
        try {
          const seen = await this.migration();
          return migrationOutcome(seen) === 'running' ? undefined : seen;
        } catch (error) {
          if (!this.#closed) throw error;
          broken = error as Error;
          return 'gone' as const;
        }
      },
      { timeoutMs, intervalMs: 50 },
    );
    if (broken || info === 'gone') throw broken ?? new QmpError(`[${this.name}] ${what}: QMP closed`);
    if (migrationOutcome(info) === 'failed') throw new MigrationFailedError(`[${this.name}] ${what}: migration ${info.status}${info.errorDesc ? `: ${info.errorDesc}` : ''}`);
    return info;
  }

  close(): void {
    this.#closed = true;
    this.#socket.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}
