import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { nsenterArgv, run } from '../exec.ts';
import { isAlive } from '../host/processes.ts';
import { openLab } from '../scenario/context.ts';
import { hasNamespace } from '../nodes/machine.ts';
import { startCapture, stopCapture } from '../scenario/capture.ts';
import { parseCommon } from './options.ts';
import type { Verb } from './verb.ts';
import { OPT } from './usage.ts';

export const CAPTURE_MAX_PACKETS = 10_000;
export const CAPTURE_DEFAULT_SECONDS = 10;

export const captureVerb: Verb = {
  summary: 'a bounded packet capture on a node\'s interface (rows, or a pcap Wireshark opens)',
  usage: `pnpm lab capture <node>:<iface> [--name NAME] [-w file.pcap] [--count N] [--seconds S] [--json] [-- <tcpdump filter>]`,
  options: [OPT.name, ['-w, --write file.pcap', 'write a pcap (Wireshark opens it) instead of printing rows'], ['--count N, -c N', 'stop after N packets (default and at most 10000)'], ['--seconds S', 'stop after S seconds (default 10)'], ['-- <tcpdump filter>', 'a tcpdump filter expression'], OPT.json],
  example: 'pnpm lab capture upstream:web-arm --seconds 5 -w egress.pcap -- icmp6',
  async run(args) {
    const options = parseCommon(args, {
      write: { type: 'string', short: 'w' },
      count: { type: 'string', short: 'c' },
      seconds: { type: 'string' },
    });
    const [spec, ...extra] = options.positionals;
    const m = spec ? /^([^:]+):([^:]+)$/.exec(spec) : null;
    if (!m || extra.length > 0) throw new UsageError(`usage: ${captureVerb.usage} (e.g. pnpm lab capture upstream:web-arm)`);
    const [, node, iface] = m as unknown as [string, string, string];
    const count = boundedNumber('--count', options.flags.count, CAPTURE_MAX_PACKETS, 1, CAPTURE_MAX_PACKETS, true);
    const seconds = boundedNumber('--seconds', options.flags.seconds, CAPTURE_DEFAULT_SECONDS, 0.1, 24 * 3600, false);
    const machine = openLab(options.config.lab.name).machine(node);

    if (!hasNamespace(machine)) {
      throw new UsageError(`${node} is a VM (its kernel has no namespace on this machine): capture its link on the router's side instead, e.g. pnpm lab capture upstream:web-arm`);
    }
    const links = await interfacesIn(machine.netnsPath);
    if (!links.includes(iface)) throw new UsageError(`No interface "${iface}" on ${node}. Interfaces: ${links.join(', ')}. Fix: pnpm lab capture ${node}:${links.find((l) => l !== 'lo') ?? 'lo'}`);

    const write = typeof options.flags.write === 'string' ? options.flags.write : undefined;
    const tmp = write ? undefined : mkdtempSync(join(tmpdir(), 'v6lab-capture-'));
    const file = write ? userPath(write) : join(tmp!, 'capture.pcap');
    try {
      const capture = await startCapture(machine.netnsPath, iface, file, ['-c', String(count), ...options.rest]);
      process.stderr.write(
        `capturing on ${node}:${iface} for ${seconds} s or ${count} packets${options.rest.length ? ` (filter: ${options.rest.join(' ')})` : ''}; Ctrl-C stops\n`,
      );
      await waitForEnd(capture.pid, seconds * 1000);
      const rows = await stopCapture(capture);
      const stats = readStats(capture.log);
      rmSync(capture.log, { force: true });
      if (stats) process.stderr.write(`${stats}\n`);
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ node, iface, file: write ? file : undefined, packets: rows.length, rows }, null, 2)}\n`);
      } else if (write) {
        process.stdout.write(`${rows.length} IP packet(s) → ${file}\n`);
      } else {
        const text = await run(['tcpdump', '-nn', '-r', file], { allowFailure: true });
        process.stdout.write(text.stdout);
      }
      return 0;
    } finally {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    }
  },
};

function boundedNumber(flag: string, value: unknown, fallback: number, min: number, max: number, integer: boolean): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    throw new UsageError(`${flag}: expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got "${String(value)}"`);
  }
  return n;
}

/** Paths on the command line are relative to where the user ran pnpm (INIT_CWD). */
function userPath(path: string): string {
  return isAbsolute(path) ? path : resolve(process.env.INIT_CWD ?? process.cwd(), path);
}

async function interfacesIn(netnsPath: string): Promise<string[]> {
  const out = await run(nsenterArgv({ net: netnsPath }, ['ip', '-j', 'link', 'show']));
  return (JSON.parse(out.stdout || '[]') as Array<{ ifname: string }>).map((l) => l.ifname);
}

/** Resolves after ms, when tcpdump exits on its own (--count reached), or on Ctrl-C. */
async function waitForEnd(pid: number, ms: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      clearInterval(poll);
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const poll = setInterval(() => {
      if (!isAlive(pid)) done();
    }, 100);
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

/** tcpdump's closing statistics ("N packets captured", …) from its log. */
function readStats(log: string): string {
  try {
    return readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => /packets? (captured|received|dropped)/.test(l))
      .join(', ');
  } catch {
    return '';
  }
}
