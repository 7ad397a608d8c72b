/**
 * The time log: when V6LAB_TIME_LOG names a file, every process of the lab (the CLI, vitest's
 * scenario workers) appends there the intervals it spent in commands (lab/exec.ts) and in
 * deliberate waits (lab/wait.ts), one short line each (O_APPEND: lines of several processes do
 * not tear). `pnpm bench` sets it per lab verb and accounts the time (lab/timeAccount.ts). Unset,
 * nothing is written.
 */
import { appendFileSync } from 'node:fs';
import { renderTimeRecord, type TimeKind } from './timeAccount.ts';

export const TIME_LOG_ENV = 'V6LAB_TIME_LOG';

/** Now, in ms since the epoch, comparable across processes. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Appends one interval (ms since the epoch) to the time log, if one is set. Never throws. */
export function logTime(kind: TimeKind, start: number, end: number): void {
  const file = process.env[TIME_LOG_ENV];
  if (!file) return;
  try {
    appendFileSync(file, renderTimeRecord({ kind, start, end }));
  } catch {
    // accounting only: never breaks the lab
  }
}
