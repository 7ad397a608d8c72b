/**
 * The inspection verbs against a running lab of their own name: `lab capture` during an egress
 * probe writes a pcap that tcpdump reads back (the host GUA leaves web-arm, no ULA does),
 * `lab graph` shows web-arm and v6egress with addresses, `lab logs` shows the responder's log
 * lines, `lab shell` runs commands inside a node. Needs root (CI runs as root).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../lab/exec.ts';
import { parseTcpdumpLines } from '../../lab/scenario/pcapText.ts';
import { waitUntil } from '../../lab/wait.ts';
import { runLab } from './labCli.ts';

const LAB = `itcap${process.pid % 10000}`;
const GUA = '2a01:4f8:c012:43b::1';
const ULA_PREFIX = 'fdaa:bbcc:ddee:';

const lab = (args: string[], options: { input?: string } = {}) => runLab(LAB, args, { input: options.input ?? '' });

// By address: what the capture must see is the egress, not name resolution (which on netavark 1.4 first waits out
// aardvark-dns behind NixOS's firewall: the container-dns story's subject, seconds longer than the capture).
const probe = () => lab(['exec', 'web-arm', '--', 'podman', 'exec', 'v6probe', 'curl', '-6', '-sS', '-m', '10', 'http://[2001:db8:ffff::80]/']);

describe.runIf(process.getuid?.() === 0)('inspection verbs on a running lab', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'v6lab-itcap-'));

  beforeAll(async () => {
    await lab(['down']);
    const up = await lab(['up']);
    expect(up.exitCode, up.stderr).toBe(0);
  });

  afterAll(async () => {
    await lab(['down']);
    rmSync(join(process.cwd(), '.lab', LAB), { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  });

  it('lab capture during an egress probe: a pcap with the host GUA as a source and no ULA', async () => {
    const pcap = join(tmp, 'uplink.pcap');
    const capture = lab(['capture', 'upstream:web-arm', '-w', pcap, '--seconds', '6']);
    // tcpdump creates the file once it listens.
    await waitUntil('the capture to start', async () => existsSync(pcap), { timeoutMs: 15_000, intervalMs: 50 });
    const egress = await probe();
    expect(egress.exitCode, egress.stderr).toBe(0);
    expect(egress.stdout.trim()).toBe(GUA);
    const captured = await capture;
    expect(captured.exitCode, captured.stderr).toBe(0);
    expect(captured.stdout).toContain(pcap);

    const read = await run(['tcpdump', '-nn', '-r', pcap]);
    const rows = parseTcpdumpLines(read.stdout);
    expect(rows.some((r) => r.src === GUA && r.dst === '2001:db8:ffff::80'), read.stdout).toBe(true);
    expect(read.stdout).not.toContain(ULA_PREFIX);
  });

  it('lab capture without -w prints the packet rows; a wrong interface is bad input (exit 2)', async () => {
    const rows = await lab(['capture', 'web-arm:lo', '--seconds', '1', '--count', '5']);
    expect(rows.exitCode, rows.stderr).toBe(0);
    const wrong = await lab(['capture', 'upstream:nope', '--seconds', '1']);
    expect(wrong.exitCode).toBe(2);
    expect(wrong.stderr).toContain('Interfaces: ');
  });

  it('lab graph --format mermaid shows web-arm, v6egress and the probe with its addresses', async () => {
    const graph = await lab(['graph', '--format', 'mermaid']);
    expect(graph.exitCode, graph.stderr).toBe(0);
    expect(graph.stdout).toMatch(/^flowchart LR\n/);
    expect(graph.stdout).toContain('web-arm');
    expect(graph.stdout).toContain('v6egress');
    expect(graph.stdout).toContain('fdaa:bbcc:ddee::/64');
    expect(graph.stdout).toMatch(/net_v6egress ---\|"10\.89\.0\.\d+, fdaa:bbcc:ddee::[0-9a-f]+"\| ctr_v6probe/);
    const dot = await lab(['graph', '--format', 'dot']);
    expect(dot.stdout).toMatch(/^graph "v6lab /);
  });

  it("lab logs v6only-target shows the responder's log lines, with the client it saw", async () => {
    expect((await probe()).exitCode).toBe(0);
    const logs = await lab(['logs', 'v6only-target']);
    expect(logs.exitCode, logs.stderr).toBe(0);
    expect(logs.stdout).toContain('"ready": true');
    expect(logs.stdout).toContain(`"client": "${GUA}"`);
    const probeLogs = await lab(['logs', 'v6probe', '--tail', '1']);
    expect(probeLogs.exitCode, probeLogs.stderr).toBe(0);
    const unknown = await lab(['logs', 'nothing-here']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('v6probe (web-arm container)');
  });

  it('lab shell runs what it reads inside the node', async () => {
    const shell = await lab(['shell', 'v6only-target'], { input: 'ip -br addr show dev eth0\nexit\n' });
    expect(shell.exitCode, shell.stderr).toBe(0);
    expect(shell.stdout).toContain('2001:db8:ffff::80/64');
  });
});
