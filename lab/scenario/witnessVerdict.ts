/**
 * The verdict of a drop witness, from two passive captures: the packet was seen where it enters
 * and, within a short bound after that, not seen where it would leave (dropped); seen leaving
 * (forwarded); seen entering but the bound has not passed yet (undecided); or never seen
 * entering (not-seen: the probe's own timeout decides). Pure.
 */
import type { TimedPacket } from './pcapText.ts';

/** How long after a packet was seen entering its leaving is waited for, unless told otherwise. */
export const DEFAULT_WITNESS_BOUND_MS = 300;

export interface PassageMatch {
  /** The probe's packet where it enters (e.g. its SYN on the router's side of web-arm's uplink). */
  entered: (row: TimedPacket) => boolean;
  /** The same packet (or its answer) where it would leave (e.g. toward the probe on web-arm's bridge). */
  left: (row: TimedPacket) => boolean;
}

export type WitnessVerdict =
  | { kind: 'dropped'; entered: TimedPacket; boundMs: number }
  | { kind: 'forwarded'; entered: TimedPacket; left: TimedPacket }
  | { kind: 'undecided'; entered: TimedPacket; watchedMs: number }
  | { kind: 'not-seen' };

/**
 * Decides from the rows captured so far. `watchedUntil` (seconds since the epoch, the captures'
 * clock) is how far both captures are known to be complete: the exit is "not seen" only up to
 * there. A packet leaving before the first one entered belongs to something else and is ignored;
 * rows leaving after watchedUntil are not counted (a decision is made on what was watched).
 */
export function decideWitness(entryRows: TimedPacket[], exitRows: TimedPacket[], match: PassageMatch, watchedUntil: number, boundMs = DEFAULT_WITNESS_BOUND_MS): WitnessVerdict {
  const entered = entryRows.filter(match.entered).sort((a, b) => a.at - b.at)[0];
  if (!entered) return { kind: 'not-seen' };
  const left = exitRows.filter((r) => r.at >= entered.at && r.at <= watchedUntil && match.left(r)).sort((a, b) => a.at - b.at)[0];
  if (left) return { kind: 'forwarded', entered, left };
  const watchedMs = Math.max(0, Math.round((watchedUntil - entered.at) * 1000));
  return watchedMs >= boundMs ? { kind: 'dropped', entered, boundMs } : { kind: 'undecided', entered, watchedMs };
}

function row(r: TimedPacket): string {
  const port = (p?: number) => (p === undefined ? '' : r.family === 6 ? `.${p}` : `:${p}`);
  return `${r.src}${port(r.sport)} > ${r.dst}${port(r.dport)} ${r.summary.split(',')[0]}`;
}

/** The verdict in words, for evidence: what was seen where, and when. */
export function describeWitness(verdict: WitnessVerdict, entryWhere: string, exitWhere: string): string {
  switch (verdict.kind) {
    case 'dropped':
      return `dropped: seen entering on ${entryWhere} [${row(verdict.entered)}], nothing left on ${exitWhere} within ${verdict.boundMs} ms after it`;
    case 'forwarded':
      return `not dropped: seen entering on ${entryWhere} [${row(verdict.entered)}] and leaving on ${exitWhere} ${Math.round((verdict.left.at - verdict.entered.at) * 1000)} ms later [${row(verdict.left)}]`;
    case 'undecided':
      return `seen entering on ${entryWhere} [${row(verdict.entered)}], nothing left on ${exitWhere} in the ${verdict.watchedMs} ms watched (the probe ended first)`;
    case 'not-seen':
      return `never seen entering on ${entryWhere}: the probe's own result decided (as without a witness: its failure or its timeout)`;
  }
}
