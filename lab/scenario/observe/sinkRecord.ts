/**
 * Waiting for the internet's mail exchanger to log a probe message: its sink's log read on the
 * MX until the record carrying the token is there (or the bound passes), with its raw line.
 */
import type { Machine } from '../../nodes/machine.ts';
import { findSinkRecord, type SinkRecord } from '../../mail/postfix.ts';
import { SEEN_LOG } from '../../topology/plan.ts';
import { waitUntil } from '../../wait.ts';

export interface SinkWait {
  timeoutMs: number;
  intervalMs: number;
  /** Done between two reads while the message has not arrived (e.g. flushing postfix's queue). */
  meanwhile?: () => Promise<unknown>;
}

/** The sink's record of the message with this token and its log line; undefined when it never arrived. */
export async function waitForSinkRecord(mx: Machine, token: string, wait: SinkWait): Promise<{ record: SinkRecord; line?: string } | undefined> {
  return waitUntil(
    `the mail exchanger to log the message ${token}`,
    async () => {
      const log = await mx.succeed(`cat ${SEEN_LOG} 2>/dev/null || true`);
      const record = findSinkRecord(log, token);
      if (record) return { record, line: log.split('\n').find((l) => l.includes(token)) };
      await wait.meanwhile?.();
      return undefined;
    },
    { timeoutMs: wait.timeoutMs, intervalMs: wait.intervalMs },
  ).catch(() => undefined);
}
