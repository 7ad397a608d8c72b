import { describe, expect, it } from 'vitest';
import { parseSysctlFile, renderBaseSystem, renderSysctlFile, sysctlUnit } from '../../lab/designs/baseSystem.ts';
import type { HostLayout } from '../../lab/designs/design.ts';
import { ociContainerUnit, ociUnitName, responderCommand } from '../../lab/designs/ociContainer.ts';
import { planDesign } from '../../lab/designs/registry.ts';
import { renderSystem } from '../../lab/designs/system.ts';
import { ConfigError } from '../../lab/errors.ts';
import { defaultConfig } from '../../lab/topology/config.ts';
import { planSwitch } from '../../lab/units/diff.ts';
import { splitExecLine } from '../../lab/units/exec-line.ts';
import type { UnitSpec } from '../../lab/units/model.ts';
import { bootOrder, bootWaves, startOrder, stopOrder, stopWaves } from '../../lab/units/order.ts';
import { renderUnit } from '../../lab/units/render.ts';

const LAYOUT: HostLayout = {
  etc: '/run/v6lab/main/web-arm/etc',
  podmanSocket: '/run/v6lab/main/web-arm/podman.sock',
  image: 'localhost/v6lab-node:0123456789ab',
  networkConfigDir: '/run/v6lab/main/web-arm/etc/containers/networks',
};

const config = defaultConfig();
const design = planDesign(config, LAYOUT);
const before = renderSystem(config, LAYOUT);
const after = renderSystem(config, LAYOUT, design);

const LIVE = ['podman-collabora.service', 'podman-rustdesk-server.service'];

function rendered(units: UnitSpec[]): Map<string, string> {
  return new Map(units.map((u) => [u.name, renderUnit(u)]));
}

function unitNamed(units: UnitSpec[], name: string): UnitSpec {
  const u = units.find((x) => x.name === name);
  if (!u) throw new Error(`no unit ${name}`);
  return u;
}

function position(order: string[], name: string): number {
  const i = order.indexOf(name);
  expect(i, `${name} in ${order.join(', ')}`).toBeGreaterThanOrEqual(0);
  return i;
}

describe('renderSystem without the design (production before the change)', () => {
  it('has the sysctl, firewall, podman and live container units', () => {
    expect(before.units.map((u) => u.name)).toEqual([
      'systemd-sysctl.service', 'firewall.service', 'podman.service', ...LIVE,
    ]);
    expect(Object.keys(before.files).sort()).toEqual([
      'firewall/firewall-reload.sh', 'firewall/firewall-start.sh', 'firewall/firewall-stop.sh', 'sysctl.d/50-docker.conf', 'sysctl.d/50-web-arm.conf',
    ]);
  });

  it("has IPv4 forwarding as NixOS's docker module sets it (virtualisation.docker.enable, as production), and none without dockerd", () => {
    expect(before.files['sysctl.d/50-docker.conf']!.split('\n')).toEqual(expect.arrayContaining(['net.ipv4.conf.all.forwarding = 1', 'net.ipv4.conf.default.forwarding = 1']));
    const config = defaultConfig();
    config.webArm.docker.enabled = false;
    expect(Object.keys(renderBaseSystem(config, LAYOUT).files)).not.toContain('sysctl.d/50-docker.conf');
  });

  it('turns accept_ra off on the uplink and does not forward', () => {
    const sysctl = before.files['sysctl.d/50-web-arm.conf']!;
    expect(sysctl.split('\n')).toContain('net.ipv6.conf.enp1s0.accept_ra = 0');
    expect(sysctl).not.toContain('forwarding');
  });

  it('boots sysctl and the firewall early (sysinit.target), everything else after them', () => {
    const order = bootOrder(before.units);
    expect(order).toHaveLength(before.units.length);
    for (const early of ['systemd-sysctl.service', 'firewall.service']) {
      for (const late of ['podman.service', ...LIVE]) expect(position(order, early)).toBeLessThan(position(order, late));
    }
    // NixOS's containers are not ordered after podman.service (only after network-online.target).
    for (const c of LIVE) expect(unitNamed(before.units, c).after).not.toContain('podman.service');
    // multi-user.target alone does not pull in sysinit.target's units.
    expect(startOrder(before.units, ['multi-user.target'])).not.toContain('firewall.service');
  });

  it('stops the live containers side by side, before sysinit.target\'s units (as a shutdown does)', () => {
    const booted = bootOrder(before.units);
    const waves = stopWaves(before.units, booted);
    expect(waves.flat().sort()).toEqual([...booted].sort());
    const waveOf = (name: string) => waves.findIndex((w) => w.includes(name));
    expect(new Set(LIVE.map(waveOf)).size).toBe(1);
    for (const early of ['systemd-sysctl.service', 'firewall.service']) {
      for (const late of LIVE) expect(waveOf(early)).toBeGreaterThan(waveOf(late));
    }
    expect(stopOrder(before.units, booted).at(-1)).toMatch(/^(firewall|systemd-sysctl)\.service$/);
  });

  it('boots the live containers side by side, after sysinit.target\'s units (as systemd does)', () => {
    const waves = bootWaves(before.units);
    expect(waves.flat().sort()).toEqual(bootOrder(before.units).sort());
    const waveOf = (name: string) => waves.findIndex((w) => w.includes(name));
    expect(new Set(LIVE.map(waveOf)).size).toBe(1);
    for (const early of ['systemd-sysctl.service', 'firewall.service']) {
      for (const late of LIVE) expect(waveOf(early)).toBeLessThan(waveOf(late));
    }
  });

  it('points the units at the layout', () => {
    const sysctl = unitNamed(before.units, 'systemd-sysctl.service');
    expect(sysctl.service.execStart).toEqual([`sysctl -q -p ${LAYOUT.etc}/sysctl.d/50-docker.conf ${LAYOUT.etc}/sysctl.d/50-web-arm.conf`]);
    const podman = unitNamed(before.units, 'podman.service');
    expect(podman.service.execStart).toEqual([`podman system service --time=0 unix://${LAYOUT.podmanSocket}`]);
    expect(podman.service.type).toBe('exec');
    const firewall = unitNamed(before.units, 'firewall.service');
    expect(firewall.service.execStart).toEqual([`@${LAYOUT.etc}/firewall/firewall-start.sh firewall-start`]);
    expect(firewall.service.execReload).toEqual([`@${LAYOUT.etc}/firewall/firewall-reload.sh firewall-reload`]);
    expect(firewall.service.execStop).toEqual([`@${LAYOUT.etc}/firewall/firewall-stop.sh firewall-stop`]);
    expect(before.files['firewall/firewall-reload.sh']).toContain(`if ${LAYOUT.etc}/firewall/firewall-start.sh; then`);
  });

  it('publishes the live containers on the default network', () => {
    const argv = splitExecLine(unitNamed(before.units, 'podman-collabora.service').service.execStart[0]!).argv;
    expect(argv.slice(argv.indexOf('-p'), argv.indexOf('-p') + 2)).toEqual(['-p', '9980:9980/tcp']);
    expect(argv.some((a) => a.startsWith('--network'))).toBe(false);
    const rustdesk = splitExecLine(unitNamed(before.units, 'podman-rustdesk-server.service').service.execStart[0]!).argv;
    expect(rustdesk.flatMap((a, i) => (a === '-p' ? [rustdesk[i + 1]] : []))).toEqual([
      '21115:21115/tcp', '21116:21116/tcp', '21117:21117/tcp', '21118:21118/tcp', '21119:21119/tcp', '21116:21116/udp',
    ]);
    expect(rustdesk.slice(rustdesk.indexOf(LAYOUT.image) + 1)).toEqual([
      '/usr/local/bin/v6lab-responder', '--name', 'rustdesk-server',
      '--tcp', '21115', '--tcp', '21116', '--tcp', '21117', '--tcp', '21118', '--tcp', '21119', '--udp', '21116',
    ]);
  });
});

describe('renderSystem with the design', () => {
  it('adds the design files and units after the base ones', () => {
    expect(after.units.map((u) => u.name)).toEqual([
      'systemd-sysctl.service', 'firewall.service', 'podman.service', ...LIVE,
      'v6egress-network.service', 'podman-v6probe.service',
    ]);
    expect(after.files['sysctl.d/60-v6egress.conf']).toBe(design.files['sysctl.d/60-v6egress.conf']);
    for (const [name, text] of Object.entries(before.files)) expect(after.files[name], name).toBe(text);
  });

  it('applies every sysctl file, in name order', () => {
    const sysctl = unitNamed(after.units, 'systemd-sysctl.service');
    expect(sysctl.service.execStart).toEqual([
      `sysctl -q -p ${LAYOUT.etc}/sysctl.d/50-docker.conf ${LAYOUT.etc}/sysctl.d/50-web-arm.conf ${LAYOUT.etc}/sysctl.d/60-v6egress.conf`,
    ]);
  });

  it('starts sysctl and firewall before podman, the network before the probe', () => {
    const order = bootOrder(after.units);
    expect(new Set(order)).toEqual(new Set(after.units.map((u) => u.name)));
    expect(position(order, 'systemd-sysctl.service')).toBeLessThan(position(order, 'podman.service'));
    expect(position(order, 'firewall.service')).toBeLessThan(position(order, 'podman.service'));
    expect(position(order, 'podman.service')).toBeLessThan(position(order, 'v6egress-network.service'));
    expect(position(order, 'systemd-sysctl.service')).toBeLessThan(position(order, 'v6egress-network.service'));
    expect(position(order, 'v6egress-network.service')).toBeLessThan(position(order, 'podman-v6probe.service'));
    // Stopping goes the other way.
    const stop = stopOrder(after.units, ['v6egress-network.service', 'podman-v6probe.service', 'podman.service']);
    expect(stop).toEqual(['podman-v6probe.service', 'v6egress-network.service', 'podman.service']);
  });

  it('pulls in the network (Requires=) when only the probe is started', () => {
    const order = startOrder(after.units, ['podman-v6probe.service']);
    expect(order).toContain('v6egress-network.service');
    expect(order).toContain('podman.service'); // the network's ensure unit wants it
    expect(position(order, 'v6egress-network.service')).toBeLessThan(position(order, 'podman-v6probe.service'));
    expect(order).not.toContain('podman-collabora.service');
  });
});

describe('applying the design (switch)', () => {
  const prev = rendered(before.units);
  const next = rendered(after.units);

  it('leaves the live container units byte-identical', () => {
    for (const name of LIVE) {
      expect(next.get(name), name).toBe(prev.get(name));
    }
    expect(next.get('podman.service')).toBe(prev.get('podman.service'));
    expect(next.get('firewall.service')).toBe(prev.get('firewall.service'));
  });

  it('restarts only systemd-sysctl and starts the network and probe', () => {
    expect(planSwitch(prev, next)).toEqual({
      added: ['podman-v6probe.service', 'v6egress-network.service'],
      changed: ['systemd-sysctl.service'],
      reloaded: [],
      unchanged: ['firewall.service', 'podman-collabora.service', 'podman-rustdesk-server.service', 'podman.service'],
      removed: [],
    });
  });

  it('is a no-op when applied twice, and stops the design units when reverted', () => {
    const again = rendered(renderSystem(config, LAYOUT, planDesign(config, LAYOUT)).units);
    const twice = planSwitch(next, again);
    expect(twice.added).toEqual([]);
    expect(twice.changed).toEqual([]);
    expect(twice.removed).toEqual([]);
    const revert = planSwitch(next, prev);
    expect(revert.removed).toEqual(['podman-v6probe.service', 'v6egress-network.service']);
    expect(revert.changed).toEqual(['systemd-sysctl.service']);
  });
});

describe('sysctlUnit / renderSysctlFile', () => {
  it('changes its hash when a sysctl file changes, not for other files', () => {
    const files = { 'sysctl.d/50-a.conf': 'a = 1\n', 'firewall/firewall-start.sh': 'x' };
    const hash = (f: Record<string, string>) => sysctlUnit(LAYOUT, f).service.environment['V6LAB_SYSCTL_HASH'];
    expect(hash(files)).toMatch(/^[0-9a-f]{12}$/);
    expect(hash({ ...files, 'firewall/firewall-start.sh': 'y' })).toBe(hash(files));
    expect(hash({ ...files, 'sysctl.d/50-a.conf': 'a = 2\n' })).not.toBe(hash(files));
  });

  it('starts early like systemd\'s own (sysinit.target, no default dependencies)', () => {
    const u = sysctlUnit(LAYOUT, {});
    expect(u.wantedBy).toEqual(['sysinit.target']);
    expect(u.before).toEqual(['sysinit.target', 'shutdown.target']);
    expect(u.options.defaultDependencies).toBe(false);
    expect(u.service.type).toBe('oneshot');
    expect(u.service.remainAfterExit).toBe(true);
  });

  it('renders key = value lines under a header', () => {
    expect(renderSysctlFile({ 'a.b': '1', 'c.d': '0' }, 'why')).toBe('# Generated by v6lab: why\na.b = 1\nc.d = 0\n');
  });

  it('gives the firewall unit a hash that follows its scripts', () => {
    const hash = (allowPing: boolean) => {
      const c = defaultConfig();
      c.webArm.firewall.allowPing = allowPing;
      return unitNamed(renderBaseSystem(c, LAYOUT).units, 'firewall.service').service.environment['V6LAB_FIREWALL_HASH'];
    };
    expect(hash(true)).toMatch(/^[0-9a-f]{12}$/);
    expect(hash(false)).not.toBe(hash(true));
  });
});

describe('ociContainerUnit', () => {
  const container = {
    name: 'web',
    image: 'img:1',
    network: 'net1',
    publish: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' as const }],
    command: ['/bin/app', 'a b'],
    dependsOn: ['net1-network.service'],
  };
  const unit = ociContainerUnit(container, { systemd: 'real' });

  it('is shaped like a NixOS oci-containers unit', () => {
    expect(unit.name).toBe('podman-web.service');
    expect(ociUnitName('x')).toBe('podman-x.service');
    expect(unit.requires).toEqual(['net1-network.service']);
    expect(unit.wants).toEqual(['network-online.target', 'net1-network.service']);
    expect(unit.after).toEqual(['network-online.target', 'net1-network.service']);
    expect(unit.service).toMatchObject({ type: 'notify', notifyAccess: 'all', restart: 'always', timeoutStartSec: 0, timeoutStopSec: 120, runtimeDirectory: 'web', user: 'root' });
    expect(unit.service.environment).toEqual({ PODMAN_SYSTEMD_UNIT: 'podman-web.service' });
    expect(splitExecLine(unit.service.execStartPre[0]!).argv).toEqual(['/bin/sh', '-c', 'podman rm -f web || true; rm -f /run/web/ctr-id']);
    expect(unit.service.execStop).toEqual(['podman stop --ignore --cidfile=/run/web/ctr-id']);
    expect(unit.service.execStopPost).toEqual(['podman rm -f --ignore --cidfile=/run/web/ctr-id']);
    expect(splitExecLine(unit.service.execStart[0]!).argv).toEqual([
      'podman', 'run', '--name=web', '--log-driver=journald', '--cidfile=/run/web/ctr-id', '--cgroups=enabled', '--sdnotify=conmon', '-d', '--replace',
      '-p', '8080:80/tcp', '--rm', '--pull', 'missing', '--network=net1', 'img:1', '/bin/app', 'a b',
    ]);
  });

  it("logs to podman's k8s-file where web-arm has no journal (the emulated systemd)", () => {
    const emulated = ociContainerUnit(container, { systemd: 'emulated' });
    expect(splitExecLine(emulated.service.execStart[0]!).argv).toContain('--log-driver=k8s-file');
    expect(renderUnit({ ...emulated, service: { ...emulated.service, execStart: unit.service.execStart } })).toBe(renderUnit(unit));
  });

  it('builds responder commands', () => {
    expect(responderCommand('n', [1], [2], [3])).toEqual(['/usr/local/bin/v6lab-responder', '--name', 'n', '--http', '3', '--tcp', '1', '--udp', '2']);
    expect(responderCommand('n', [], [])).toEqual(['/usr/local/bin/v6lab-responder', '--name', 'n']);
  });

  it('rejects a container name that makes an invalid unit name', () => {
    expect(() => ociContainerUnit({ name: 'bad name', image: 'i', publish: [], command: [], dependsOn: [] }, { systemd: 'real' })).toThrow(ConfigError);
  });
});

describe('parseSysctlFile', () => {
  it('reads the settings renderSysctlFile writes, and hand-written ones, comments and blanks left out', () => {
    expect(parseSysctlFile(renderSysctlFile({ 'net.ipv6.conf.all.forwarding': '1', 'net.ipv6.conf.enp1s0.accept_ra': '0' }, 'test'))).toEqual([
      ['net.ipv6.conf.all.forwarding', '1'],
      ['net.ipv6.conf.enp1s0.accept_ra', '0'],
    ]);
    expect(parseSysctlFile('# c\n; c\n\nnet.ipv4.ip_forward=1\n  kernel.x =  a b \n')).toEqual([
      ['net.ipv4.ip_forward', '1'],
      ['kernel.x', 'a b'],
    ]);
  });
});
