/**
 * Lab hygiene on the netns tier: a crash (SIGKILL) mid-`up` and mid-`test` followed by
 * `lab down`, Ctrl-C during `up`, and 20 consecutive up/test/down cycles all leave the
 * machine as it was. Needs root (CI runs as root).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnDaemon } from '../../lab/exec.ts';
import { waitForExit } from '../../lab/host/processes.ts';
import { findLeaks, ownProcessTree, snapshotMachine, type MachineSnapshot } from '../../lab/host/leakCheck.ts';
import { stateFile } from '../../lab/state/store.ts';
import { waitUntil } from '../../lab/wait.ts';
import { labArgv, runLab } from './labCli.ts';

const LAB = `hy${process.pid % 10000}`;
const logs = mkdtempSync(join(tmpdir(), 'v6lab-hygiene-'));
const CYCLES = Number(process.env.V6LAB_HYGIENE_CYCLES ?? 20);

const lab = (...args: string[]) => runLab(LAB, args);

/** Starts a lab command in a process group of its own, as a terminal or a CI job would. */
function background(name: string, ...args: string[]): { pid: number; log: string } {
  const log = join(logs, `${name}.log`);
  const pid = spawnDaemon(labArgv(LAB, args), { logFile: log, env: { CI: '1' } });
  return { pid, log };
}

async function waitForLog(log: string, text: string, timeoutMs = 180_000): Promise<void> {
  await waitUntil(`"${text}" in ${log}`, async () => existsSync(log) && readFileSync(log, 'utf8').includes(text), { timeoutMs, intervalMs: 100 });
}

async function leaks(before: MachineSnapshot) {
  return findLeaks(before, await snapshotMachine(), { ignorePids: ownProcessTree(String(process.ppid)), lab: LAB });
}

/**
 * What is still there when it stays there: a leak persists, while a short-lived process of
 * other work on the machine (another lab's probe, another checkout's test) is gone a moment
 * later. Waits at most 10 s for the list to empty; returns what is left then.
 */
async function leaksThatStay(before: MachineSnapshot) {
  return waitUntil('nothing of the lab left', async () => ((await leaks(before)).length === 0 ? [] : undefined), { timeoutMs: 10_000, intervalMs: 1_000 }).catch(() => leaks(before));
}

/**
 * podman's default lock manager: one shared-memory segment for every podman on the machine. The
 * lab's podmans take file locks in their own tmp_dir (containers.conf lock_type), so the lab
 * never allocates a lock there, and never leaks one: its bytes stay as they were.
 */
const SHARED_LOCKS = '/dev/shm/libpod_lock';
const sharedLocks = (): string => (existsSync(SHARED_LOCKS) ? createHash('sha256').update(readFileSync(SHARED_LOCKS)).digest('hex') : 'absent');

describe.runIf(process.getuid?.() === 0)('lab hygiene', () => {
  let before: MachineSnapshot;
  let sharedLocksBefore: string;

  beforeAll(async () => {
    sharedLocksBefore = sharedLocks();
    await lab('down');
    // Warm the image cache first, so the interruptions below hit the topology, not mmdebstrap.
    const up = await lab('up');
    expect(up.exitCode, up.stderr).toBe(0);
    await lab('down');
    before = await snapshotMachine();
  });

  afterAll(async () => {
    await lab('down');
    rmSync(join(process.cwd(), '.lab', LAB), { recursive: true, force: true });
    rmSync(logs, { recursive: true, force: true });
  });

  it('SIGKILL mid-up, then `lab down`, leaves nothing behind', async () => {
    const up = background('kill-up', 'up');
    await waitForLog(up.log, 'web-arm: namespaces');
    process.kill(-up.pid, 'SIGKILL');
    await waitForExit(up.pid, 120_000);
    expect(existsSync(stateFile(LAB))).toBe(true);
    const down = await lab('down');
    expect(down.exitCode, down.stderr).toBe(0);
    expect(await leaks(before)).toEqual([]);
  });

  it('SIGKILL mid-test, then `lab down`, leaves nothing behind', async () => {
    expect((await lab('up')).exitCode).toBe(0);
    const test = background('kill-test', 'test');
    await waitForLog(test.log, 'egress-nat66');
    await new Promise((r) => setTimeout(r, 1500));
    process.kill(-test.pid, 'SIGKILL');
    await waitForExit(test.pid, 120_000);
    const down = await lab('down');
    expect(down.exitCode, down.stderr).toBe(0);
    expect(await leaks(before)).toEqual([]);
  });

  it('Ctrl-C during up cleans up by itself (exit 130)', async () => {
    const up = background('ctrl-c-up', 'up');
    await waitForLog(up.log, 'start router and internet hosts');
    process.kill(-up.pid, 'SIGINT');
    await waitForExit(up.pid, 120_000);
    const log = readFileSync(up.log, 'utf8');
    expect(log).toContain('interrupted');
    expect(log).toContain('nothing of the lab is left');
    expect(existsSync(stateFile(LAB))).toBe(false);
    expect(await leaks(before)).toEqual([]);
  });

  it(`${CYCLES} consecutive up/test/down cycles leave zero leaks`, async () => {
    for (let i = 1; i <= CYCLES; i++) {
      const up = await lab('up');
      expect(up.exitCode, `cycle ${i} up: ${up.stderr}`).toBe(0);
      const test = await lab('test', '--only', 'egress-nat66');
      expect(test.exitCode, `cycle ${i} test: ${test.stdout}`).toBe(0);
      const down = await lab('down');
      expect(down.exitCode, `cycle ${i} down: ${down.stderr}`).toBe(0);
      expect(await leaksThatStay(before), `after cycle ${i}`).toEqual([]);
      if (CYCLES > 20 && i % 10 === 0) process.stderr.write(`hygiene: ${i} of ${CYCLES} cycles, zero leaks so far\n`);
    }
    // A bound per cycle (up, one scenario, down, the leak check), not one for the whole soak.
  }, CYCLES * 60_000);

  it("never takes a lock in the machine's shared podman lock segment (crashes, Ctrl-C and the cycles above)", () => {
    expect(sharedLocks(), `${SHARED_LOCKS} changed while only this file's labs ran`).toBe(sharedLocksBefore);
  });
});
