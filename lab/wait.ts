/**
 * The one waiting primitive: polls `attempt` until it returns a value (not undefined/false),
 * with an explicit timeout; on timeout the error says what the last attempt saw. Its pauses
 * between attempts (and every `pause`) are logged as wait time (lab/timeLog.ts).
 */
import { WaitTimeoutError } from './errors.ts';
import { epochNow, logTime } from './timeLog.ts';

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
}

export async function waitUntil<T>(
  what: string,
  attempt: () => Promise<T | undefined | false>,
  options: WaitOptions,
): Promise<T> {
  const deadline = performance.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 200;
  let lastSeen = 'nothing yet';
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const value = await attempt();
      if (value !== undefined && value !== false) return value;
      lastSeen = String(value);
    } catch (error) {
      lastSeen = error instanceof Error ? error.message.split('\n').slice(0, 3).join(' | ') : String(error);
    }
    if (performance.now() >= deadline) throw new WaitTimeoutError(what, options.timeoutMs, lastSeen);
    await pause(interval);
  }
}

/**
 * A deliberate pause of ms (give in-flight packets a moment, space retries): the one sleep of
 * the lab, logged as wait time (lab/timeLog.ts).
 */
export async function pause(ms: number): Promise<void> {
  const start = epochNow();
  await new Promise((r) => setTimeout(r, ms));
  logTime('wait', start, epochNow());
}
