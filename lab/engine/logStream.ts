/**
 * The Docker API's log format. Without a TTY, `GET /containers/{id}/logs` multiplexes stdout
 * and stderr into frames: one header byte for the stream (0 stdin, 1 stdout, 2 stderr), three
 * zero bytes, a big-endian 32-bit length, then the payload. With a TTY it is the raw text.
 * Pure.
 */

export interface LogChunk {
  stream: 'stdout' | 'stderr';
  text: string;
}

const STREAMS: Record<number, LogChunk['stream']> = { 0: 'stdout', 1: 'stdout', 2: 'stderr' };

function isFrameHeader(buf: Buffer, at: number): boolean {
  return buf.length - at >= 8 && buf[at]! in STREAMS && buf[at + 1] === 0 && buf[at + 2] === 0 && buf[at + 3] === 0;
}

/** Splits a logs response into chunks; a response that is not multiplexed is one stdout chunk. */
export function demuxDockerLogs(buf: Buffer): LogChunk[] {
  if (buf.length === 0) return [];
  if (!isFrameHeader(buf, 0)) return [{ stream: 'stdout', text: buf.toString('utf8') }];
  const chunks: LogChunk[] = [];
  let at = 0;
  while (at < buf.length) {
    if (!isFrameHeader(buf, at)) {
      // A truncated or foreign tail: keep it as text rather than lose it.
      chunks.push({ stream: 'stdout', text: buf.subarray(at).toString('utf8') });
      break;
    }
    const size = buf.readUInt32BE(at + 4);
    const stream = STREAMS[buf[at]!]!;
    const text = buf.subarray(at + 8, at + 8 + size).toString('utf8');
    const last = chunks.at(-1);
    if (last && last.stream === stream) last.text += text;
    else chunks.push({ stream, text });
    at += 8 + size;
  }
  return chunks;
}

/** The last n lines of a text (all of it when n is undefined); keeps a final newline. */
export function tailLines(text: string, n: number | undefined): string {
  if (n === undefined) return text;
  if (n <= 0) return '';
  const lines = text.split('\n');
  const trailing = lines.at(-1) === '' ? lines.pop() : undefined;
  const kept = lines.slice(-n).join('\n');
  return trailing === undefined ? kept : `${kept}\n`;
}

/** A command's output as log chunks: stdout, then stderr, the empty ones left out. */
export function commandChunks(result: { stdout: string; stderr: string }): LogChunk[] {
  return [
    { stream: 'stdout' as const, text: result.stdout },
    { stream: 'stderr' as const, text: result.stderr },
  ].filter((c) => c.text !== '');
}
