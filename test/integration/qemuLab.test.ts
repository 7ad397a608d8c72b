/**
 * The qemu tier end to end (a guest of this machine's architecture, real systemd): a lab of its own name comes up with
 * web-arm as a QEMU guest whose only NIC is a tap in the router's namespace, passes the
 * foundation scenarios and the mail path with a real reboot, goes down and leaves nothing
 * behind. Slow (TCG: a boot takes about a minute), so it runs once, on the foundation set.
 * Needs root; V6LAB_QEMU=0 turns it off.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLeaks, ownProcessTree, snapshotMachine, type MachineSnapshot } from '../../lab/host/leakCheck.ts';
import { isUnexpected, type RunReport } from '../../lab/report/model.ts';
import { readState, stateFile } from '../../lab/state/store.ts';
import { nativeArch } from '../../lab/topology/config.ts';
import { runLab } from './labCli.ts';

const LAB = `qm${process.pid % 10000}`;
const ARCH = nativeArch();
const FOUNDATION = ['egress-nat66', 'egress-v4', 'isolation-default', 'host-unchanged', 'idempotent-redeploy', 'idempotent-reboot', 'no-inbound', 'mail-path'];
const enabled = process.getuid?.() === 0 && process.env.V6LAB_QEMU !== '0';

const lab = (...args: string[]) => runLab(LAB, args, { timeoutMs: 40 * 60_000 });

describe.runIf(enabled)(`qemu tier (${ARCH} guest), end to end`, () => {
  let before: MachineSnapshot;

  beforeAll(async () => {
    await lab('down');
    before = await snapshotMachine();
  });

  afterAll(async () => {
    await lab('down');
  });

  it('comes up with a real web-arm guest, passes the foundation scenarios and the mail path, goes down clean', async () => {
    const started = performance.now();
    const up = await lab('up', '--host', 'qemu', '--arch', ARCH);
    expect(up.exitCode, up.stderr.split('\n').slice(-30).join('\n')).toBe(0);
    const upMs = performance.now() - started;

    // Nothing of the lab in the machine's own namespace: no link, route or rule.
    const during = await snapshotMachine();
    const own = ownProcessTree(String(process.ppid));
    for (const kind of ['link', 'route', 'rule']) {
      expect(findLeaks(before, during, { ignorePids: own, lab: LAB }).filter((l) => l.kind === kind)).toEqual([]);
    }
    const status = JSON.parse((await lab('status', '--json')).stdout) as {
      tier: string;
      guest: { arch: string; accel: string; start: 'boot' | 'restore'; bootToReadyMs?: number; restoreMs?: number };
      nodes: Array<{ node: string; kind: string; present: boolean }>;
    };
    expect(status.tier).toBe('qemu');
    expect(status.guest.arch).toBe(ARCH);
    expect(status.nodes.find((n) => n.node === 'web-arm')).toMatchObject({ kind: 'qemu', present: true });
    // The guest's only NIC is enp1s0 (the tap); docker0 is dockerd's bridge (dockerd runs
    // beside podman, as on production); and it is real systemd.
    const links = await lab('exec', 'web-arm', '--', 'ls /sys/class/net');
    expect(links.exitCode, links.stderr).toBe(0);
    expect(links.stdout.split(/\s+/).filter((l) => l && !l.startsWith('podman') && !l.startsWith('veth')).sort()).toEqual(['docker0', 'enp1s0', 'lo']);
    expect((await lab('exec', 'web-arm', '--', 'readlink /proc/1/exe')).stdout.trim()).toMatch(/systemd$/);

    // Two web-arms: the real reboot runs on a fork restored from the snapshot, beside the rest on the lab's own.
    const test = await lab('test', '--host', 'qemu', '--only', FOUNDATION.join(','), '--parallel', '2', '--json');
    const report = JSON.parse(test.stdout) as RunReport;
    expect(report.scenarios.map((s) => s.id)).toEqual(FOUNDATION);
    expect(report.scenarios.filter(isUnexpected).map((s) => `${s.id}: ${s.status}: ${s.summary}`)).toEqual([]);
    for (const s of report.scenarios) expect(`${s.id} ${s.tier} ${s.realism}`).toBe(`${s.id} qemu real`);
    expect(report.scenarios.every((s) => s.status === 'pass')).toBe(true);
    expect(test.exitCode).toBe(0);
    // Which web-arm ran what: the reboot on a fork of its own, which is down again and forgotten.
    expect(report.forks?.map((f) => f.lab)).toEqual([LAB, `${LAB}f1`]);
    expect(report.scenarios.find((s) => s.id === 'idempotent-reboot')?.ranOn).toBe(`${LAB}f1`);
    expect(report.scenarios.find((s) => s.id === 'egress-nat66')?.ranOn).toBeUndefined();
    expect(existsSync(stateFile(`${LAB}f1`))).toBe(false);
    expect(readState(LAB)?.forks).toBeUndefined();

    const down = await lab('down');
    expect(down.exitCode, down.stderr).toBe(0);
    expect((await lab('down')).exitCode).toBe(0);
    expect(existsSync(stateFile(LAB))).toBe(false);
    expect(findLeaks(before, await snapshotMachine(), { ignorePids: own, lab: LAB })).toEqual([]);
    process.stderr.write(`qemu tier: up ${Math.round(upMs / 1000)} s (${status.guest.start === 'restore' ? `restored from the snapshot in ${Math.round((status.guest.restoreMs ?? 0) / 1000)} s` : `boot to ready ${Math.round((status.guest.bootToReadyMs ?? 0) / 1000)} s`}, ${status.guest.accel}), test ${Math.round(report.durationMs / 1000)} s\n`);
  }, 60 * 60_000);
});
