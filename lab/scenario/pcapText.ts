/**
 * Reads `tcpdump -nn` text lines into (source, destination, protocol) rows. Pure.
 */
export interface PacketRow {
  family: 4 | 6;
  src: string;
  dst: string;
  summary: string;
}

const IP6 = /\bIP6 ([0-9a-fA-F:]+?)(?:\.(\d+))? > ([0-9a-fA-F:]+?)(?:\.(\d+))?: (.*)$/;
const IP4 = /\bIP (\d+\.\d+\.\d+\.\d+)(?:\.(\d+))? > (\d+\.\d+\.\d+\.\d+)(?:\.(\d+))?: (.*)$/;

export function parseTcpdumpLines(text: string): PacketRow[] {
  const rows: PacketRow[] = [];
  for (const line of text.split('\n')) {
    const m6 = IP6.exec(line);
    if (m6) {
      rows.push({ family: 6, src: m6[1]!.toLowerCase(), dst: m6[3]!.toLowerCase(), summary: m6[5]!.trim() });
      continue;
    }
    const m4 = IP4.exec(line);
    if (m4) rows.push({ family: 4, src: m4[1]!, dst: m4[3]!, summary: m4[5]!.trim() });
  }
  return rows;
}

/** A packet with its capture time and ports, as `tcpdump -tt -nn -r` prints it. */
export interface TimedPacket extends PacketRow {
  /** Capture time, seconds since the epoch (the capturing machine's clock). */
  at: number;
  sport?: number;
  dport?: number;
}

const EPOCH = /^(\d+\.\d+) /;

/** Reads `tcpdump -tt -nn` lines (epoch timestamps) into timed rows with their ports. Pure. */
export function parseTimedLines(text: string): TimedPacket[] {
  const rows: TimedPacket[] = [];
  for (const line of text.split('\n')) {
    const at = EPOCH.exec(line);
    if (!at) continue;
    const m = IP6.exec(line) ?? IP4.exec(line);
    if (!m) continue;
    const v6 = m[0].startsWith('IP6');
    rows.push({
      family: v6 ? 6 : 4,
      src: v6 ? m[1]!.toLowerCase() : m[1]!,
      dst: v6 ? m[3]!.toLowerCase() : m[3]!,
      summary: m[5]!.trim(),
      at: Number(at[1]),
      ...(m[2] ? { sport: Number(m[2]) } : {}),
      ...(m[4] ? { dport: Number(m[4]) } : {}),
    });
  }
  return rows;
}
