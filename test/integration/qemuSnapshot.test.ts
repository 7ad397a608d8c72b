/**
 * The clean web-arm snapshot of the qemu tier (a guest of this machine's architecture): a first
 * lab comes up (booting cold and saving the snapshot, or restoring one already cached) and goes
 * down; a second lab of another name MUST restore it, in a fraction of a boot, with a guest
 * that works (its clock set; NAT66 and IPv4 egress and the default isolation pass), and goes down
 * leaving nothing of itself but the snapshot cache. Needs root; V6LAB_QEMU=0 turns it off.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLeaks, ownProcessTree, snapshotMachine, type MachineSnapshot } from '../../lab/host/leakCheck.ts';
import { findProcesses } from '../../lab/host/processes.ts';
import { findSnapshot } from '../../lab/tiers/qemu/snapshotCache.ts';
import { isUnexpected, type RunReport } from '../../lab/report/model.ts';
import { stateFile, type GuestRecord } from '../../lab/state/store.ts';
import { nativeArch } from '../../lab/topology/config.ts';
import { runLab } from './labCli.ts';

const FIRST = `sn${process.pid % 10000}a`;
const SECOND = `sn${process.pid % 10000}b`;
const ARCH = nativeArch();
// NAT66 from a design's network, IPv4 from a default-network container, the default containers
// untouched and reachable on their published ports: all cross the restored guest's kernel and the new router.
const SCENARIOS = ['egress-nat66', 'egress-v4', 'isolation-default'];
const enabled = process.getuid?.() === 0 && process.env.V6LAB_QEMU !== '0';

const lab = (name: string, ...args: string[]) => runLab(name, args, { timeoutMs: 40 * 60_000 });
const tail = (text: string, lines = 30) => text.split('\n').slice(-lines).join('\n');

function guestOf(upJson: string): GuestRecord {
  return (JSON.parse(upJson) as { state: { guest: GuestRecord } }).state.guest;
}

describe.runIf(enabled)(`qemu tier (${ARCH} guest): the clean web-arm snapshot`, () => {
  let before: MachineSnapshot;

  beforeAll(async () => {
    await lab(FIRST, 'down');
    await lab(SECOND, 'down');
    before = await snapshotMachine();
  });

  afterAll(async () => {
    await lab(FIRST, 'down');
    await lab(SECOND, 'down');
  });

  it('a second lab restores the web-arm a first lab saved, in seconds, and it works', async () => {
    const own = ownProcessTree(String(process.ppid));

    // The first lab: a cold boot that saves the snapshot, or a restore of one already cached.
    const first = await lab(FIRST, 'up', '--host', 'qemu', '--arch', ARCH, '--json');
    expect(first.exitCode, tail(first.stderr)).toBe(0);
    const firstGuest = guestOf(first.stdout);
    const key = firstGuest.snapshot?.key;
    expect(key, `no snapshot saved or restored by the first lab:\n${tail(first.stderr)}`).toMatch(/^[0-9a-f]{16}$/);
    if (firstGuest.start === 'boot') expect(firstGuest.snapshotSaveMs).toBeGreaterThan(0);
    expect((await lab(FIRST, 'down')).exitCode).toBe(0);
    // The snapshot outlives the lab that saved it (like the image cache).
    const cached = findSnapshot(key!);
    expect(cached.snapshot, cached.why).toBeDefined();
    const coldBootMs = firstGuest.bootToReadyMs ?? cached.snapshot!.meta.bootToReadyMs ?? 0;

    // The second lab must restore it.
    const second = await lab(SECOND, 'up', '--host', 'qemu', '--arch', ARCH, '--json');
    expect(second.exitCode, tail(second.stderr)).toBe(0);
    const guest = guestOf(second.stdout);
    expect(guest, tail(second.stderr)).toMatchObject({ start: 'restore', snapshot: { key } });
    expect(guest.restoreFailed).toBeUndefined();
    expect(guest.restoreMs).toBeGreaterThan(0);
    // Well under a boot (a boot to multi-user.target alone is a minute or more under TCG).
    if (coldBootMs) expect(guest.restoreMs!).toBeLessThan(coldBootMs / 2);
    const status = JSON.parse((await lab(SECOND, 'status', '--json')).stdout) as { guest: GuestRecord; nodes: Array<{ node: string; kind: string; present: boolean }> };
    expect(status.guest.start).toBe('restore');
    expect(status.nodes.find((n) => n.node === 'web-arm')).toMatchObject({ kind: 'qemu', present: true });

    // The restored guest's clock is this machine's, not the save time.
    const date = await lab(SECOND, 'exec', 'web-arm', '--', 'date +%s');
    expect(date.exitCode, date.stderr).toBe(0);
    expect(Math.abs(Number(date.stdout.trim()) - Date.now() / 1000)).toBeLessThan(30);

    const test = await lab(SECOND, 'test', '--only', SCENARIOS.join(','), '--json');
    const report = JSON.parse(test.stdout) as RunReport;
    expect(report.scenarios.map((s) => s.id)).toEqual(SCENARIOS);
    expect(report.scenarios.filter(isUnexpected).map((s) => `${s.id}: ${s.status}: ${s.summary}`)).toEqual([]);
    expect(report.scenarios.map((s) => `${s.id} ${s.status} ${s.tier} ${s.realism}`)).toEqual(SCENARIOS.map((id) => `${id} pass qemu real`));
    expect(test.exitCode).toBe(0);

    // Down leaves nothing of the lab: no QEMU, no state, no run directory (overlay, sockets).
    const down = await lab(SECOND, 'down');
    expect(down.exitCode, down.stderr).toBe(0);
    expect(existsSync(stateFile(SECOND))).toBe(false);
    expect(existsSync(`/run/v6lab/${SECOND}`)).toBe(false);
    expect(findProcesses({ cmdlineContains: `process=v6lab-${SECOND}-` })).toEqual([]);
    expect(findLeaks(before, await snapshotMachine(), { ignorePids: own, lab: SECOND })).toEqual([]);
    expect(findLeaks(before, await snapshotMachine(), { ignorePids: own, lab: FIRST })).toEqual([]);
    expect(findSnapshot(key!).snapshot).toBeDefined();
    process.stderr.write(
      `qemu snapshot: first lab ${firstGuest.start === 'boot' ? `booted in ${Math.round((firstGuest.bootToReadyMs ?? 0) / 1000)} s, saved the snapshot in ${((firstGuest.snapshotSaveMs ?? 0) / 1000).toFixed(1)} s` : `restored in ${((firstGuest.restoreMs ?? 0) / 1000).toFixed(1)} s`}; ` +
        `second lab restored in ${((guest.restoreMs ?? 0) / 1000).toFixed(1)} s (state.bin ${Math.round(cached.snapshot!.meta.stateBytes / 1024 ** 2)} MiB); ${SCENARIOS.join(', ')} passed\n`,
    );
  }, 60 * 60_000);
});
