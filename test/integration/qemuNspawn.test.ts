/**
 * systemd-nspawn on the qemu tier (issue 11; real systemd, machined, networkd and dockerd in
 * the guest): nspawn-delegated first (its container egresses with its own GUA only while
 * enp1s0 proxies NDP for it; the port forward in io.systemd.nat answers where the firewall
 * drops), then the running lab switched to nspawn-ula-nat (egress as the host GUA; the
 * uplink's proxy-NDP drop-in is removed by the switch, as NixOS drops /etc entries no longer
 * configured). Needs root; V6LAB_QEMU=0 turns it off.
 */
import { describe, expect, it } from 'vitest';
import { normalizeAddress } from '../../lab/topology/addresses.ts';
import { nativeArch } from '../../lab/topology/config.ts';
import { qemuStory, qemuTestsEnabled } from './qemuStory.ts';

const ARCH = nativeArch();
const HOST_GUA = '2a01:4f8:c012:43b::1';
const DELEGATED = '2a01:4f8:c012:43b:2::100';

describe.runIf(qemuTestsEnabled)(`systemd-nspawn on the qemu tier (${ARCH} guest)`, () => {
  const story = qemuStory(`qn${process.pid % 10000}`);
  const { lab, testOnly } = story;

  it('nspawn-delegated, then nspawn-ula-nat on the same web-arm, each as declared', async () => {
    const up = await lab('up', '--host', 'qemu', '--arch', ARCH, '--set', 'design.name=nspawn-delegated');
    expect(up.exitCode, up.stderr.split('\n').slice(-30).join('\n')).toBe(0);

    const delegated = await testOnly(['egress-nat66', 'egress-v4', 'inbound-reachability', 'nspawn-proxy-ndp', 'nspawn-port-forward']);
    const status = (id: string) => delegated.scenarios.find((s) => s.id === id)!;
    expect(status('egress-nat66').summary).toContain(DELEGATED);
    for (const id of ['egress-nat66', 'egress-v4', 'inbound-reachability', 'nspawn-proxy-ndp', 'nspawn-port-forward']) expect(status(id).status, id).toBe('pass');
    const proxyRemoved = status('nspawn-proxy-ndp').evidence.find((e) => e.check.startsWith('without the proxy entry'));
    expect(proxyRemoved?.ok).toBe(true);

    const ula = await lab('apply', '--set', 'design.name=nspawn-ula-nat');
    expect(ula.exitCode, ula.stderr.split('\n').slice(-20).join('\n')).toBe(0);
    const dropIn = await lab('exec', 'web-arm', '--', 'ls', '/etc/systemd/network/10-enp1s0.network.d/');
    expect(dropIn.stdout).not.toContain('nspawn-delegated');
    const ulaReport = await testOnly(['egress-nat66', 'egress-v4', 'no-inbound', 'inbound-reachability', 'nspawn-port-forward']);
    const egress = ulaReport.scenarios.find((s) => s.id === 'egress-nat66')!;
    expect(egress.status).toBe('pass');
    expect(egress.summary).toContain(`target saw ${normalizeAddress(HOST_GUA)}`);

    await story.downClean();
  }, 60 * 60_000);
});
