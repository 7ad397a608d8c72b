/**
 * The QEMU guest agent's wire protocol (QMP-style JSON over a byte stream). Pure: framing of
 * requests, decoding of a stream of responses (which may be split or joined arbitrarily, and
 * may start with stale output from before a resynchronisation), and the shapes of the few
 * commands the lab uses.
 *
 * guest-sync-delimited: the agent answers with a 0xFF byte followed by `{"return": <id>}`.
 * 0xFF never occurs in UTF-8 JSON, so everything before it is stale and is dropped.
 */

export const SYNC_BYTE = 0xff;

export type AgentMessage =
  | { kind: 'sync-marker' }
  | { kind: 'response'; value: AgentResponse }
  | { kind: 'garbage'; text: string };

export interface AgentResponse {
  return?: unknown;
  error?: { class?: string; desc?: string };
  [key: string]: unknown;
}

export function encodeCommand(execute: string, args?: Record<string, unknown>): Buffer {
  return Buffer.from(`${JSON.stringify(args === undefined ? { execute } : { execute, arguments: args })}\n`);
}

/**
 * A resynchronisation: a 0xFF first (the agent's parser drops whatever half-request it held),
 * then guest-sync-delimited with a fresh id.
 */
export function encodeSync(id: number): Buffer {
  return Buffer.concat([Buffer.from([SYNC_BYTE]), encodeCommand('guest-sync-delimited', { id })]);
}

/** Splits a byte stream into sync markers and whole JSON objects. */
export class AgentDecoder {
  #pending: number[] = [];
  #depth = 0;
  #inString = false;
  #escaped = false;

  push(chunk: Uint8Array): AgentMessage[] {
    const out: AgentMessage[] = [];
    for (const byte of chunk) {
      if (byte === SYNC_BYTE) {
        this.#reset();
        out.push({ kind: 'sync-marker' });
        continue;
      }
      if (this.#depth === 0) {
        // Between objects: whitespace and stray bytes are skipped until an object starts.
        if (byte !== 0x7b /* { */) continue;
        this.#pending = [byte];
        this.#depth = 1;
        continue;
      }
      this.#pending.push(byte);
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (byte === 0x5c /* \ */) this.#escaped = true;
        else if (byte === 0x22 /* " */) this.#inString = false;
        continue;
      }
      if (byte === 0x22) this.#inString = true;
      else if (byte === 0x7b || byte === 0x5b) this.#depth++;
      else if (byte === 0x7d || byte === 0x5d) {
        this.#depth--;
        if (this.#depth === 0) {
          const text = Buffer.from(this.#pending).toString('utf8');
          this.#reset();
          try {
            const value: unknown = JSON.parse(text);
            if (value && typeof value === 'object' && !Array.isArray(value)) out.push({ kind: 'response', value: value as AgentResponse });
            else out.push({ kind: 'garbage', text });
          } catch {
            out.push({ kind: 'garbage', text });
          }
        }
      }
    }
    return out;
  }

  #reset(): void {
    this.#pending = [];
    this.#depth = 0;
    this.#inString = false;
    this.#escaped = false;
  }
}

/** The reply to one guest-sync-delimited, when this response is it. */
export function isSyncReply(response: AgentResponse, id: number): boolean {
  return response.return === id;
}

export function describeAgentError(response: AgentResponse): string | undefined {
  if (!response.error) return undefined;
  return `${response.error.class ?? 'GenericError'}: ${response.error.desc ?? JSON.stringify(response.error)}`;
}

export interface GuestExecRequest {
  path: string;
  arg: string[];
  'capture-output': true;
  'input-data'?: string;
  env?: string[];
}

export function guestExecArgs(argv: readonly string[], input?: string): GuestExecRequest {
  const [path, ...arg] = argv;
  if (!path) throw new TypeError('guest-exec needs a command');
  return {
    path,
    arg,
    'capture-output': true,
    ...(input !== undefined ? { 'input-data': Buffer.from(input).toString('base64') } : {}),
  };
}

export function parseExecPid(ret: unknown): number {
  const pid = (ret as { pid?: unknown } | undefined)?.pid;
  if (typeof pid !== 'number') throw new TypeError(`guest-exec returned no pid: ${JSON.stringify(ret)}`);
  return pid;
}

export interface ExecStatus {
  exited: boolean;
  exitCode: number | undefined;
  signal: number | undefined;
  stdout: string;
  stderr: string;
  /** The agent cut the captured output (it keeps at most 16 MiB per stream). */
  truncated: boolean;
}

/** Decodes a guest-exec-status return (base64 output, optional fields). */
export function decodeExecStatus(ret: unknown): ExecStatus {
  const r = (ret ?? {}) as Record<string, unknown>;
  const text = (field: string) => (typeof r[field] === 'string' ? Buffer.from(r[field] as string, 'base64').toString('utf8') : '');
  return {
    exited: r.exited === true,
    exitCode: typeof r.exitcode === 'number' ? r.exitcode : undefined,
    signal: typeof r.signal === 'number' ? r.signal : undefined,
    stdout: text('out-data'),
    stderr: text('err-data'),
    truncated: r['out-truncated'] === true || r['err-truncated'] === true,
  };
}
