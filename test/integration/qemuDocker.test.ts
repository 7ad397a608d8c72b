/**
 * The Docker family on the qemu tier (real dockerd beside podman in the guest), with netavark's
 * nftables driver (the default iptables driver runs in `lab compare --host qemu` and in
 * qemuLab.test.ts): docker-coexistence and inbound-portfwd on v6egress, then the running lab
 * switched to docker-routed-ndp and docker-ula-portfwd (`lab apply --set design.name=…`), each
 * with the scenarios that tell its story; every verdict as its design declares. Needs root;
 * V6LAB_QEMU=0 turns it off.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLeaks, ownProcessTree, snapshotMachine, type MachineSnapshot } from '../../lab/host/leakCheck.ts';
import { isUnexpected, type RunReport } from '../../lab/report/model.ts';
import { stateFile } from '../../lab/state/store.ts';
import { nativeArch } from '../../lab/topology/config.ts';
import { runLab } from './labCli.ts';

const LAB = `qd${process.pid % 10000}`;
const ARCH = nativeArch();
const enabled = process.getuid?.() === 0 && process.env.V6LAB_QEMU !== '0';

const lab = (...args: string[]) => runLab(LAB, args, { timeoutMs: 40 * 60_000 });

async function testOnly(ids: string[]): Promise<RunReport> {
  const test = await lab('test', '--host', 'qemu', '--only', ids.join(','), '--json');
  expect(test.stdout.trim().startsWith('{'), test.stderr.split('\n').slice(-20).join('\n')).toBe(true);
  const report = JSON.parse(test.stdout) as RunReport;
  expect(report.scenarios.map((s) => s.id).sort()).toEqual([...ids].sort());
  expect(report.scenarios.filter(isUnexpected).map((s) => `${s.design} ${s.id}: ${s.status}: ${s.summary}`)).toEqual([]);
  for (const s of report.scenarios) expect(`${s.id} ${s.tier} ${s.realism}`).toBe(`${s.id} qemu real`);
  return report;
}

describe.runIf(enabled)(`the Docker family on the qemu tier (${ARCH} guest, nftables driver)`, () => {
  let before: MachineSnapshot;

  beforeAll(async () => {
    await lab('down');
    before = await snapshotMachine();
  });

  afterAll(async () => {
    await lab('down');
  });

  it('v6egress beside dockerd, then docker-ula-portfwd and docker-routed-ndp, each as declared', async () => {
    const up = await lab('up', '--host', 'qemu', '--arch', ARCH, '--set', 'webArm.podman.firewallDriver=nftables');
    expect(up.exitCode, up.stderr.split('\n').slice(-30).join('\n')).toBe(0);
    const own = ownProcessTree(String(process.ppid));

    const v6egress = await testOnly(['docker-coexistence', 'inbound-portfwd']);
    const coexistence = v6egress.scenarios.find((s) => s.id === 'docker-coexistence')!;
    expect(coexistence.status).toBe('pass');
    // Without the DOCKER-USER accepts, the nftables driver loses IPv4 egress and published ports.
    const without = coexistence.evidence.find((e) => e.check.startsWith('without acceptPodmanInDockerUser (evidence'));
    expect(without?.ok).toBe(true);
    expect(without?.seen).toMatch(/reaches v4only\.example/);
    expect(without?.seen).toMatch(/published/);

    // Routed first: Docker's NAT design turns ip6tables on, whose FORWARD policy DROP stays when
    // daemon.json turns it off again (a fresh host, as lab compare gives each design, has none).
    const routed = await lab('apply', '--set', 'design.name=docker-routed-ndp');
    expect(routed.exitCode, routed.stderr.split('\n').slice(-20).join('\n')).toBe(0);
    const routedReport = await testOnly(['egress-nat66', 'inbound-reachability', 'no-inbound']);
    expect(routedReport.scenarios.find((s) => s.id === 'inbound-reachability')?.status).toBe('pass');

    const ula = await lab('apply', '--set', 'design.name=docker-ula-portfwd');
    expect(ula.exitCode, ula.stderr.split('\n').slice(-20).join('\n')).toBe(0);
    const ulaReport = await testOnly(['egress-nat66', 'egress-v4', 'inbound-portfwd', 'inbound-reachability']);
    expect(ulaReport.scenarios.find((s) => s.id === 'inbound-portfwd')?.status).toBe('pass');

    const down = await lab('down');
    expect(down.exitCode, down.stderr).toBe(0);
    expect(existsSync(stateFile(LAB))).toBe(false);
    expect(findLeaks(before, await snapshotMachine(), { ignorePids: own, lab: LAB })).toEqual([]);
  }, 80 * 60_000);
});
