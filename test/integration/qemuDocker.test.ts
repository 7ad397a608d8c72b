/**
 * The Docker family on the qemu tier (real dockerd beside podman in the guest), with netavark's
 * nftables driver (the default iptables driver runs in `lab compare --host qemu` and in
 * qemuLab.test.ts): docker-coexistence and inbound-portfwd on v6egress, then the running lab
 * switched to docker-routed-ndp and docker-ula-portfwd (`lab apply --set design.name=…`), each
 * with the scenarios that tell its story; every verdict as its design declares. Needs root;
 * V6LAB_QEMU=0 turns it off.
 */
import { describe, expect, it } from 'vitest';
import { nativeArch } from '../../lab/topology/config.ts';
import { qemuStory, qemuTestsEnabled } from './qemuStory.ts';

const ARCH = nativeArch();

describe.runIf(qemuTestsEnabled)(`the Docker family on the qemu tier (${ARCH} guest, nftables driver)`, () => {
  const story = qemuStory(`qd${process.pid % 10000}`);
  const { lab, testOnly } = story;

  it('v6egress beside dockerd, then docker-ula-portfwd and docker-routed-ndp, each as declared', async () => {
    const up = await lab('up', '--host', 'qemu', '--arch', ARCH, '--set', 'webArm.podman.firewallDriver=nftables');
    expect(up.exitCode, up.stderr.split('\n').slice(-30).join('\n')).toBe(0);
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

    await story.downClean();
  }, 80 * 60_000);
});
