/**
 * Packet captures on a lab link: tcpdump run from the host inside a node's network
 * namespace, writing a pcap Wireshark opens; read back as rows for verdicts.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { nsenterArgv, run, spawnDaemon } from '../exec.ts';
import { waitForExit } from '../host/processes.ts';
import { pause, waitUntil } from '../wait.ts';
import { parseTcpdumpLines, type PacketRow } from './pcapText.ts';

export interface RunningCapture {
  pid: number;
  file: string;
  log: string;
}

export async function startCapture(netnsPath: string, iface: string, file: string, filter: string[] = []): Promise<RunningCapture> {
  mkdirSync(dirname(file), { recursive: true });
  const log = `${file}.log`;
  const pid = spawnDaemon(
    // --immediate-mode: each packet is handed to tcpdump as it arrives. Without it the kernel
    // hands them over in blocks (up to 1 s late), and packets still in a block when the capture
    // is stopped were counted ("received by filter") but never written.
    nsenterArgv({ net: netnsPath }, ['tcpdump', '-i', iface, '-nn', '-U', '--immediate-mode', '-Z', 'root', '-w', file, ...filter]),
    { logFile: log },
  );
  await waitUntil(
    `tcpdump listening on ${iface}`,
    async () => existsSync(log) && readFileSync(log, 'utf8').includes('listening on'),
    { timeoutMs: 10_000, intervalMs: 50 },
  );
  return { pid, file, log };
}

/** Stops the capture (SIGINT, so tcpdump flushes) and returns the packets it saw. */
export async function stopCapture(capture: RunningCapture): Promise<PacketRow[]> {
  // Give in-flight packets a moment to be written.
  await pause(300);
  try {
    process.kill(capture.pid, 'SIGINT');
  } catch {
    // gone already
  }
  await waitForExit(capture.pid, 10_000);
  return readCapture(capture.file);
}

export async function readCapture(file: string): Promise<PacketRow[]> {
  return parseTcpdumpLines(await tcpdumpText(file));
}

/**
 * tcpdump's text of a pcap (`-nn`; `-tt`: each row starts with its capture time). A pcap still
 * being written may end in half a record: tcpdump then complains, and the rows before it count.
 */
export async function tcpdumpText(file: string, options: { times?: boolean } = {}): Promise<string> {
  const result = await run(['tcpdump', ...(options.times ? ['-tt'] : []), '-nn', '-r', file], { allowFailure: true });
  return result.stdout;
}
