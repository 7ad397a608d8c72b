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
