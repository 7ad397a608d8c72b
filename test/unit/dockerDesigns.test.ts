/**
 * The Docker designs' pure parts: the daemon.json each writes, the NDP proxy config, the probe's
 * MAC-derived address, units shaped like NixOS's oci-containers (docker backend), and the
 * expectations they declare.
 */
import { describe, expect, it } from 'vitest';
import { planDesign } from '../../lab/designs/registry.ts';
import { dockerMacAddress, PROBE_MAC, renderNdppdConf } from '../../lab/designs/dockerRoutedNdp.ts';
import { dockerCoexistenceExpectations, dockerContainerUnit } from '../../lab/designs/dockerEngine.ts';
import { parseV6egressParams } from '../../lab/designs/v6egress.ts';
import { defaultConfig, type LabConfig } from '../../lab/topology/config.ts';
import { renderUnit } from '../../lab/units/render.ts';
import { policyDrop } from '../../scenarios/lib/dockerCoexistence.ts';

const layout = { etc: '/etc', podmanSocket: '/run/podman/podman.sock', image: 'localhost/v6lab-node:abc', networkConfigDir: '/etc/containers/networks', systemd: 'real' as const };

function qemuConfig(design: string, params: Record<string, unknown> = {}): LabConfig {
  const config = defaultConfig();
  config.lab.tier = 'qemu';
  config.design = { name: design, params };
  return config;
}

describe('docker-routed-ndp', () => {
  it('derives the probe address from its MAC as dockerd does on docker0', () => {
    expect(dockerMacAddress('2a01:4f8:c012:43b:2::/80', PROBE_MAC)).toBe('2a01:4f8:c012:43b:2:242:ac11:64');
  });
  it('writes daemon.json with ipv6 and fixed-cidr-v6, ndppd for the /80 on the uplink, and the probe unit', () => {
    const plan = planDesign(qemuConfig('docker-routed-ndp'), layout);
    expect(JSON.parse(plan.files['docker/daemon.json']!)).toEqual({ 'log-driver': 'journald', 'live-restore': true, ipv6: true, 'fixed-cidr-v6': '2a01:4f8:c012:43b:2::/80', ip6tables: false });
    expect(plan.files['ndppd.conf']).toBe(renderNdppdConf('enp1s0', '2a01:4f8:c012:43b:2::/80'));
    expect(plan.files['ndppd.conf']).toContain('rule 2a01:4f8:c012:43b:2::/80 {\n        iface docker0');
    expect(plan.units.map((u) => u.name)).toEqual(['podman-docker-user.service', 'ndppd.service', 'docker-v6probe.service']);
    expect(plan.probe).toMatchObject({ exec: 'docker exec v6probe', unit: 'docker-v6probe.service', ipv6: '2a01:4f8:c012:43b:2:242:ac11:64' });
    expect(plan.egressSource).toBe('container');
    expect(plan.expectations['no-inbound']).toBe('fail');
    expect(plan.expectations['egress-nat66']).toBeUndefined();
  });
  it('without the NDP proxy, declares that egress and inbound fail', () => {
    const plan = planDesign(qemuConfig('docker-routed-ndp', { ndpProxy: 'none' }), layout);
    expect(plan.files['ndppd.conf']).toBeUndefined();
    expect(plan.units.map((u) => u.name)).toEqual(['podman-docker-user.service', 'docker-v6probe.service']);
    expect(plan.expectations).toMatchObject({ 'egress-nat66': 'fail', 'inbound-reachability': 'fail' });
  });
});

describe('docker-ula-portfwd', () => {
  it("turns on Docker's NAT66, ensures its network like the podman idiom and publishes the probe's port", () => {
    const plan = planDesign(qemuConfig('docker-ula-portfwd'), layout);
    expect(JSON.parse(plan.files['docker/daemon.json']!)).toMatchObject({ experimental: true, ip6tables: true });
    const [, network, probe] = plan.units;
    expect(network!.service.execStart[0]).toContain('docker network inspect v6nat >/dev/null 2>&1 || docker network create --ipv6 --subnet 10.91.0.0/24 --subnet fdaa:bbcc:dd0c::/64 v6nat');
    expect(probe!.service.execStart[0]).toContain('-p=8443:8080/tcp');
    expect(probe!.service.execStart[0]).toContain('--ip6=fdaa:bbcc:dd0c::100');
    expect(plan.probe.published).toEqual({ hostPort: 8443, containerPort: 8080, unpublishedPort: 9090 });
    expect(plan.networks[0]).toMatchObject({ engine: 'docker', name: 'v6nat' });
  });
});

describe('docker container units', () => {
  it('load the image from podman storage once, run under docker.service, and clean up', () => {
    const unit = dockerContainerUnit({ name: 'p', image: 'img:1', publish: [], command: ['sleep', '1'], dependsOn: ['x.service'] });
    const text = renderUnit(unit);
    expect(text).toContain("ExecStartPre=/bin/sh -c 'docker image inspect img:1 >/dev/null 2>&1 || podman save img:1 | docker load'");
    expect(text).toContain('Requires=docker.service x.service');
    expect(text).toContain('ExecStopPost=-docker rm -f p');
  });
});

describe('v6egress beside dockerd', () => {
  it('takes the DOCKER-USER accepts by default where dockerd runs, and only there', () => {
    expect(parseV6egressParams({}, qemuConfig('v6egress')).acceptPodmanInDockerUser).toBe(true);
    expect(parseV6egressParams({}, defaultConfig()).acceptPodmanInDockerUser).toBe(false);
    const off = qemuConfig('v6egress');
    off.webArm.docker.enabled = false;
    expect(parseV6egressParams({}, off).acceptPodmanInDockerUser).toBe(false);
    for (const design of ['v6egress', 'routed-subprefix-ndp', 'docker-routed-ndp', 'docker-ula-portfwd']) {
      const plan = planDesign(qemuConfig(design), layout);
      const unit = plan.units.find((u) => u.name === 'podman-docker-user.service');
      expect(unit, design).toBeDefined();
      expect(unit!.partOf).toEqual(['docker.service']);
      expect(unit!.service.execStart[0]).toContain('iptables -w -C DOCKER-USER -o podman+ -m conntrack --ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT 2>/dev/null || iptables -w -I DOCKER-USER');
    }
  });
  it('declares what breaks without them: published ports, and with nftables IPv4 egress', () => {
    const ipt = qemuConfig('v6egress');
    expect(dockerCoexistenceExpectations(false, ipt)).toEqual({ 'docker-coexistence': 'fail', 'isolation-default': 'fail' });
    expect(dockerCoexistenceExpectations(true, ipt)).toEqual({});
    const nft = qemuConfig('v6egress');
    nft.webArm.podman.firewallDriver = 'nftables';
    expect(dockerCoexistenceExpectations(false, nft)).toMatchObject({ 'egress-v4': 'fail' });
    expect(dockerCoexistenceExpectations(false, defaultConfig())).toEqual({});
    expect(planDesign(qemuConfig('v6egress', { acceptPodmanInDockerUser: false }), layout).expectations).toMatchObject({ 'docker-coexistence': 'fail' });
  });
  it('reads the drop from iptables -L output', () => {
    expect(policyDrop('Chain FORWARD (policy DROP 7 packets, 420 bytes)\nnum pkts')).toEqual({ policy: 'Chain FORWARD (policy DROP 7 packets, 420 bytes)', packets: 7 });
    expect(policyDrop('Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)')).toBeUndefined();
  });
});
