/**
 * Where a run's wall time went, pure: the intervals spent in commands (subprocesses and
 * commands in a guest) and in deliberate waits (waitUntil's pauses, explicit sleeps), as logged
 * by lab/timeLog.ts from every process of the lab, merged so that overlapping intervals (scenarios
 * side by side, commands run in parallel) count once as wall time covered. A wait that overlaps a
 * command counts as command time; framework overhead is what neither covers.
 */

/** [start, end] in ms since the epoch (performance.timeOrigin + performance.now()). */
export type Interval = readonly [number, number];

export type TimeKind = 'command' | 'wait';

export interface TimeRecord {
  kind: TimeKind;
  start: number;
  end: number;
}

export interface TimeAccount {
  /** Wall time of the run, ms (as measured by whoever started it). */
  wallMs: number;
  /** Wall time during which at least one command ran, ms. */
  commandsMs: number;
  /** Wall time in deliberate waits while no command ran, ms. */
  waitsMs: number;
  /** wall − commands − waits, ms (never negative). */
  overheadMs: number;
  /** overheadMs / wallMs (0 for an empty run). */
  overheadShare: number;
  /** How many commands and waits were logged. */
  commands: number;
  waits: number;
}

/** Sorted, non-overlapping intervals covering exactly what the input covers. Empty or reversed intervals are dropped. */
export function mergeIntervals(intervals: Iterable<Interval>): Interval[] {
  const sorted = [...intervals].filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: Array<[number, number]> = [];
  for (const [s, e] of sorted) {
    const last = merged[merged.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else merged.push([s, e]);
  }
  return merged;
}

/** Total length of merged intervals. */
export function coveredMs(merged: readonly Interval[]): number {
  return merged.reduce((sum, [s, e]) => sum + (e - s), 0);
}

/** Clips intervals to a window (what a run's wall time can hold). */
export function clipIntervals(intervals: Iterable<Interval>, window: Interval): Interval[] {
  const out: Interval[] = [];
  for (const [s, e] of intervals) {
    const cs = Math.max(s, window[0]);
    const ce = Math.min(e, window[1]);
    if (ce > cs) out.push([cs, ce]);
  }
  return out;
}

/**
 * The account of one run: commands = union of command intervals; waits = union of wait
 * intervals less what commands cover; overhead = wall − both. When a window is given, intervals
 * are clipped to it (a process may log a moment past what its parent timed).
 */
export function accountTime(records: readonly TimeRecord[], wallMs: number, window?: Interval): TimeAccount {
  const pick = (kind: TimeKind) => {
    const raw = records.filter((r) => r.kind === kind).map((r): Interval => [r.start, r.end]);
    return mergeIntervals(window ? clipIntervals(raw, window) : raw);
  };
  const commands = pick('command');
  const waits = pick('wait');
  const commandsMs = coveredMs(commands);
  const bothMs = coveredMs(mergeIntervals([...commands, ...waits]));
  const waitsMs = bothMs - commandsMs;
  const overheadMs = Math.max(0, wallMs - bothMs);
  return {
    wallMs: Math.round(wallMs),
    commandsMs: Math.round(commandsMs),
    waitsMs: Math.round(waitsMs),
    overheadMs: Math.round(overheadMs),
    overheadShare: wallMs > 0 ? overheadMs / wallMs : 0,
    commands: records.filter((r) => r.kind === 'command').length,
    waits: records.filter((r) => r.kind === 'wait').length,
  };
}

/** Adds accounts of runs one after another (their walls do not overlap). */
export function sumAccounts(accounts: readonly TimeAccount[]): TimeAccount {
  const sum = (f: (a: TimeAccount) => number) => accounts.reduce((n, a) => n + f(a), 0);
  const wallMs = sum((a) => a.wallMs);
  const overheadMs = sum((a) => a.overheadMs);
  return {
    wallMs,
    commandsMs: sum((a) => a.commandsMs),
    waitsMs: sum((a) => a.waitsMs),
    overheadMs,
    overheadShare: wallMs > 0 ? overheadMs / wallMs : 0,
    commands: sum((a) => a.commands),
    waits: sum((a) => a.waits),
  };
}

/** One line of the time log: `{"k":"c"|"w","s":…,"e":…}`. */
export function renderTimeRecord(r: TimeRecord): string {
  return `${JSON.stringify({ k: r.kind === 'command' ? 'c' : 'w', s: Math.round(r.start * 10) / 10, e: Math.round(r.end * 10) / 10 })}\n`;
}

/** The time log's lines; a torn or foreign line is skipped. */
export function parseTimeLog(text: string): TimeRecord[] {
  const out: TimeRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line) as { k?: unknown; s?: unknown; e?: unknown };
      if ((v.k === 'c' || v.k === 'w') && typeof v.s === 'number' && typeof v.e === 'number') out.push({ kind: v.k === 'c' ? 'command' : 'wait', start: v.s, end: v.e });
    } catch {
      // a line cut short by a killed process
    }
  }
  return out;
}
