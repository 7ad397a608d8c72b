/**
 * nspawn-ula-nat and nspawn-delegated: a systemd-nspawn container on a `ve-` link whose host
 * side systemd-networkd configures, as NixOS's nixos-nspawn write-up describes (seed 001).
 *
 * - nspawn-ula-nat: a ULA prefix on the link, IPv6 (and IPv4) masqueraded by networkd
 *   (`IPMasquerade=both`), so the container egresses as the host GUA.
 * - nspawn-delegated: a GUA sub-prefix of the host /64 on the link, routed without NAT. On the
 *   Hetzner-like on-link /64 the router resolves the container's address by neighbour
 *   discovery: `IPv6ProxyNDP=yes` with a per-address `IPv6ProxyNDPAddress=` on enp1s0 (a
 *   networkd drop-in) answers for it; without them return traffic never arrives.
 *
 * Both: forwarding on, the `ve-+` interfaces trusted by the host firewall (NixOS's
 * `networking.firewall.trustedInterfaces`), and a port forward (`--port=tcp:<hostPort>:<port>`)
 * that nspawn installs in the `io.systemd.nat` nftables table, ahead of the host firewall.
 *
 * The container's root filesystem is the lab's node image (preloaded in the guest's podman),
 * exported once into /var/lib/machines/<name>; it has no init: nspawn runs a shell that
 * configures host0 statically and execs the lab's responder. qemu tier only: the netns tier
 * has no systemd, machined or networkd.
 */
import { mailCaveatExpectations } from './mailCaveat.ts';
import ipaddr from 'ipaddr.js';
import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.ts';
import { cidrContains, cidrOf, cidrsOverlap, hostInSubnet, isUniqueLocal, parseCidr, type Cidr } from '../topology/addresses.ts';
import type { LabConfig } from '../topology/config.ts';
import { defineService } from '../units/model.ts';
import { renderSysctlFile } from './baseSystem.ts';
import { checkDockerUserFix, dockerCoexistenceExpectations, dockerdRuns, dockerUserUnits } from './dockerEngine.ts';
import type { Design, DesignPlan, HostLayout } from './design.ts';
import { checkPort, checkPrivateIpv4Subnet, checkProbe, paramField, rejectUnknownParams } from './params.ts';
import { variantExpectations } from './variant.ts';
import { requireCapability } from '../tiers/capabilities.ts';

export interface NspawnParams {
  machine: string;
  /** The container link's IPv6 prefix: a ULA (ula-nat) or a sub-prefix of the host /64 (delegated). */
  ipv6Prefix: string;
  ipv4Subnet: string;
  probePort: number;
  /** The host port nspawn forwards to the probe port (io.systemd.nat). */
  hostPort: number;
  /** delegated only: answer neighbour solicitations for the container's GUA on the uplink. */
  ipv6ProxyNdp: boolean;
  /** Where dockerd runs: DOCKER-USER accepts for podman's bridges and the ve- links (its FORWARD DROP stops them otherwise). */
  acceptPodmanInDockerUser: boolean;
}

type Kind = 'ula-nat' | 'delegated';

const DEFAULTS: Record<Kind, NspawnParams> = {
  'ula-nat': { machine: 'nsprobe', ipv6Prefix: 'fd42:4242:4242::/64', ipv4Subnet: '10.91.0.0/24', probePort: 8080, hostPort: 8181, ipv6ProxyNdp: false, acceptPodmanInDockerUser: false },
  delegated: { machine: 'nsprobe', ipv6Prefix: '2a01:4f8:c012:43b:2::/80', ipv4Subnet: '10.91.0.0/24', probePort: 8080, hostPort: 8181, ipv6ProxyNdp: true, acceptPodmanInDockerUser: false },
};

const MACHINE = /^[a-z][a-z0-9-]{0,11}$/;

export function parseNspawnParams(kind: Kind, raw: Record<string, unknown>, config: LabConfig): NspawnParams {
  const design = `nspawn-${kind}`;
  requireCapability(config, 'nspawn', `design ${design}`, 'systemd-nspawn needs a real systemd with machined and systemd-networkd');
  const known = Object.keys(DEFAULTS[kind]).filter((k) => kind === 'delegated' || k !== 'ipv6ProxyNdp');
  rejectUnknownParams(raw, known, design);
  const p = { ...DEFAULTS[kind], ...raw } as Record<string, unknown>;
  if (typeof p.machine !== 'string' || !MACHINE.test(p.machine)) {
    throw new ConfigError(paramField('machine'), p.machine, 'not a usable machine name (its host link is ve-<name>, at most 15 characters)', 'use 1–12 lowercase letters, digits or dashes, starting with a letter, e.g. nsprobe');
  }
  const hostAddress = ipaddr.parse(config.webArm.ipv6.address);
  const hostNet = cidrOf(hostAddress, config.webArm.ipv6.prefixLength);
  const v6 = parseCidr(paramField('ipv6Prefix'), p.ipv6Prefix, 6, DEFAULTS[kind].ipv6Prefix);
  if (kind === 'ula-nat') {
    if (!isUniqueLocal(v6.address) || cidrsOverlap(v6, hostNet)) {
      throw new ConfigError(paramField('ipv6Prefix'), p.ipv6Prefix, 'is not a ULA (fc00::/7) clear of the host /64', `masquerading needs a unique local prefix: use e.g. ${DEFAULTS[kind].ipv6Prefix}`);
    }
    if (v6.prefixLength < 48 || v6.prefixLength > 120) {
      throw new ConfigError(paramField('ipv6Prefix'), p.ipv6Prefix, 'has a prefix length outside /48–/120', `use a /64 such as ${DEFAULTS[kind].ipv6Prefix}`);
    }
  } else {
    if (!cidrContains(hostNet, v6.address) || v6.prefixLength <= hostNet.prefixLength) {
      throw new ConfigError(paramField('ipv6Prefix'), p.ipv6Prefix, `is outside the host's ${hostNet.text}: only a sub-prefix of it reaches web-arm on Hetzner's on-link /64`, `delegate a sub-prefix of ${hostNet.text}, e.g. ${DEFAULTS[kind].ipv6Prefix}`);
    }
    if (cidrContains(v6, hostAddress)) {
      throw new ConfigError(paramField('ipv6Prefix'), p.ipv6Prefix, `contains the host address ${config.webArm.ipv6.address}`, `use a sub-prefix away from it, e.g. ${DEFAULTS[kind].ipv6Prefix}`);
    }
    if (v6.prefixLength < 65 || v6.prefixLength > 120) {
      throw new ConfigError(paramField('ipv6Prefix'), p.ipv6Prefix, 'has a prefix length outside /65–/120', `use a /80 such as ${DEFAULTS[kind].ipv6Prefix}`);
    }
    if (typeof p.ipv6ProxyNdp !== 'boolean') {
      throw new ConfigError(paramField('ipv6ProxyNdp'), p.ipv6ProxyNdp, 'is not a boolean', 'write --set design.params.ipv6ProxyNdp=true or false');
    }
  }
  const v4 = checkPrivateIpv4Subnet(p.ipv4Subnet, config, DEFAULTS[kind].ipv4Subnet);
  const probe = checkProbe(p.machine, p.probePort, config);
  const hostPort = checkPort('hostPort', p.hostPort, DEFAULTS[kind].hostPort);
  const taken = [...config.webArm.firewall.allowedTcpPorts, ...config.webArm.containers.flatMap((c) => c.publish.map((x) => x.hostPort))];
  if (taken.includes(hostPort)) {
    throw new ConfigError(paramField('hostPort'), hostPort, 'is already open or published on web-arm', 'forward a port the host firewall does not open, e.g. 8181 (the point of the io.systemd.nat scenario)');
  }
  return {
    machine: p.machine,
    ipv6Prefix: v6.text,
    ipv4Subnet: v4.text,
    probePort: probe.probePort,
    hostPort,
    ipv6ProxyNdp: kind === 'delegated' && (p.ipv6ProxyNdp as boolean),
    acceptPodmanInDockerUser: checkDockerUserFix(raw.acceptPodmanInDockerUser, config),
  };
}

function nth(cidr: string, n: number): string {
  const [a, l] = ipaddr.parseCIDR(cidr);
  return hostInSubnet(cidrOf(a, l) as Cidr, n);
}

export function nspawnAddresses(p: NspawnParams) {
  const length6 = p.ipv6Prefix.split('/')[1]!;
  const length4 = p.ipv4Subnet.split('/')[1]!;
  return {
    link: `ve-${p.machine}`,
    host6: nth(p.ipv6Prefix, 1),
    container6: nth(p.ipv6Prefix, 0x100),
    host4: nth(p.ipv4Subnet, 1),
    container4: nth(p.ipv4Subnet, 100),
    length6,
    length4,
  };
}

export const MACHINES_DIR = '/var/lib/machines';

/** The host side of the container's link, as NixOS's hostNetworkConfig renders systemd.network.networks."20-ve-…". */
export function renderHostLinkNetwork(kind: Kind, p: NspawnParams): string {
  const a = nspawnAddresses(p);
  return [
    '# Generated by v6lab: the host side of the nspawn container\'s link',
    '[Match]',
    `Name=${a.link}`,
    '',
    '[Network]',
    `Address=${a.host6}/${a.length6}`,
    `Address=${a.host4}/${a.length4}`,
    'LinkLocalAddressing=ipv6',
    // The container configures itself statically: no RA, no DHCP server.
    'IPv6SendRA=no',
    'IPv6AcceptRA=no',
    'IPv4Forwarding=yes',
    'IPv6Forwarding=yes',
    `IPMasquerade=${kind === 'ula-nat' ? 'both' : 'ipv4'}`,
    '',
  ].join('\n');
}

/**
 * delegated: the uplink answers neighbour solicitations for the container's GUA (a networkd
 * drop-in); without proxy NDP the drop-in says `IPv6ProxyNDP=no`, so a switch from "on" turns
 * the kernel's proxy_ndp off again (networkd leaves an unset key as it finds it).
 */
export function renderUplinkProxyNdp(p: NspawnParams): string {
  return [
    `# Generated by v6lab: ${p.ipv6ProxyNdp ? 'proxy NDP for' : 'no proxy NDP (the experiment without it) for'} the nspawn container's delegated address`,
    '[Network]',
    ...(p.ipv6ProxyNdp ? ['IPv6ProxyNDP=yes', `IPv6ProxyNDPAddress=${nspawnAddresses(p).container6}`] : ['IPv6ProxyNDP=no']),
    '',
  ].join('\n');
}

/** What the container runs as its PID 1: host0 configured statically, then the responder. */
export function containerCommand(p: NspawnParams): string {
  const a = nspawnAddresses(p);
  return [
    'ip link set lo up',
    'ip link set host0 up',
    `ip -6 addr add ${a.container6}/${a.length6} dev host0 nodad`,
    `ip -4 addr add ${a.container4}/${a.length4} dev host0`,
    `ip -6 route add default via ${a.host6} dev host0`,
    `ip -4 route add default via ${a.host4} dev host0`,
    `exec /usr/local/bin/v6lab-responder --name ${p.machine} --http ${p.probePort}`,
  ].join('; ');
}

export function planNspawn(kind: Kind, p: NspawnParams, config: LabConfig, layout: HostLayout): DesignPlan {
  const design = `nspawn-${kind}`;
  const a = nspawnAddresses(p);
  const uplink = config.webArm.uplink;
  const dir = `${MACHINES_DIR}/${p.machine}`;
  const rootfsUnit = `nspawn-${p.machine}-rootfs.service`;
  const trustUnit = 'firewall-trust-ve.service';
  const reloadUnit = 'networkd-v6lab-reload.service';
  const probeUnit = `nspawn-${p.machine}.service`;
  const files: Record<string, string> = {
    [`sysctl.d/60-${design}.conf`]: renderSysctlFile({ 'net.ipv6.conf.all.forwarding': '1' }, `${design}: forward for the container link`),
    [`systemd/network/10-${a.link}.network`]: renderHostLinkNetwork(kind, p),
  };
  if (kind === 'delegated') files[`systemd/network/10-${uplink}.network.d/60-${design}-proxy-ndp.conf`] = renderUplinkProxyNdp(p);
  const networkdFiles = Object.keys(files).filter((f) => f.startsWith('systemd/network/')).sort();
  const hash = createHash('sha256');
  for (const f of networkdFiles) hash.update(f).update(files[f]!);
  // NixOS's trustedInterfaces = [ "ve-+" ]: accepted ahead of the refusing rules; PartOf the firewall so a restart re-adds it.
  const trust = ['iptables', 'ip6tables'].map((t) => `${t} -w -C nixos-fw -i ve-+ -j nixos-fw-accept 2>/dev/null || ${t} -w -I nixos-fw 1 -i ve-+ -j nixos-fw-accept`).join('; ');
  const units = [
    ...dockerUserUnits(p.acceptPodmanInDockerUser, ['podman+', 've-+']),
    defineService({
      name: reloadUnit,
      description: 'systemd-networkd picks up the design\'s .network files (restarted when they change)',
      after: ['systemd-networkd.service'],
      wantedBy: ['multi-user.target'],
      type: 'oneshot',
      remainAfterExit: true,
      environment: { V6LAB_NETWORKD_HASH: hash.digest('hex').slice(0, 12) },
      execStart: [
        'networkctl reload',
        ...(kind !== 'delegated' ? [] : p.ipv6ProxyNdp ? [`networkctl reconfigure ${uplink}`] : [`-ip -6 neigh del proxy ${a.container6} dev ${uplink}`]),
      ],
    }),
    defineService({
      name: trustUnit,
      description: 'Trust the ve-+ interfaces in the host firewall (like networking.firewall.trustedInterfaces)',
      after: ['firewall.service'],
      partOf: ['firewall.service'],
      wantedBy: ['multi-user.target'],
      type: 'oneshot',
      remainAfterExit: true,
      execStart: [`/bin/sh -c '${trust}'`],
      execStop: [`-/bin/sh -c 'iptables -w -D nixos-fw -i ve-+ -j nixos-fw-accept; ip6tables -w -D nixos-fw -i ve-+ -j nixos-fw-accept'`],
    }),
    defineService({
      name: rootfsUnit,
      description: `The ${p.machine} container's root filesystem (the lab's node image, exported once)`,
      after: ['podman.service', 'local-fs.target'],
      wantedBy: ['multi-user.target'],
      type: 'oneshot',
      remainAfterExit: true,
      timeoutStartSec: 600,
      execStart: [
        `/bin/sh -c 'test -x ${dir}/usr/local/bin/v6lab-responder && exit 0; rm -rf ${dir}.new && mkdir -p ${dir}.new && podman rm -f --ignore v6lab-nspawn-export >/dev/null && podman create --name v6lab-nspawn-export ${layout.image} >/dev/null && podman export v6lab-nspawn-export | tar -x -C ${dir}.new && podman rm -f v6lab-nspawn-export >/dev/null && rm -rf ${dir} && mv ${dir}.new ${dir}'`,
      ],
    }),
    defineService({
      name: probeUnit,
      description: `systemd-nspawn container ${p.machine} (veth ${a.link}, port ${p.hostPort} → ${p.probePort})`,
      wants: [rootfsUnit, reloadUnit, trustUnit, 'network-online.target'],
      requires: [rootfsUnit],
      after: [rootfsUnit, reloadUnit, trustUnit, 'systemd-networkd.service', 'network-online.target', 'systemd-machined.service'],
      wantedBy: ['multi-user.target'],
      type: 'simple',
      restart: 'on-failure',
      execStart: [
        `systemd-nspawn --quiet --keep-unit --register=yes --machine=${p.machine} --directory=${dir} --network-veth --port=tcp:${p.hostPort}:${p.probePort} --resolv-conf=copy-host --timezone=off --link-journal=no /bin/sh -c "${containerCommand(p)}"`,
      ],
    }),
  ];
  const expectations: DesignPlan['expectations'] = {
    // Stories about a podman network (its ID, ensure step, aardvark-dns, netavark's rules) do not apply.
    'idempotent-redeploy': 'skipped',
    'idempotent-reboot': 'skipped',
    'container-dns': 'skipped',
    'firewall-reload': 'skipped',
    drift: 'skipped',
    'subnet-collision': 'skipped',
    // Its port forward is nspawn's own (--port), proven by nspawn-port-forward; no podman network to publish on.
    'inbound-portfwd': 'skipped',
    ...dockerCoexistenceExpectations(p.acceptPodmanInDockerUser, config),
    // dockerd's FORWARD DROP also stops the ve- link's IPv4 whatever netavark's driver (nspawn has no accepts of its own).
    ...(dockerdRuns(config) && !p.acceptPodmanInDockerUser ? { 'egress-v4': 'fail' as const } : {}),
    ...variantExpectations(config, { clat: false }),
  };
  // IPv6 egress works on ula-nat and, with the proxy entry, on delegated: the mail caveat holds there.
  Object.assign(expectations, mailCaveatExpectations(kind === 'ula-nat' || p.ipv6ProxyNdp));
  if (kind === 'ula-nat') {
    expectations['inbound-reachability'] = 'fail';
  } else {
    // Routed and proxied: the container is reachable on every port it listens on, and the host /64 and uplink change.
    expectations['no-inbound'] = 'fail';
    expectations['host-64-touched'] = 'fail';
    expectations['host-unchanged'] = 'fail';
    if (!p.ipv6ProxyNdp) {
      expectations['egress-nat66'] = 'fail';
      expectations['inbound-reachability'] = 'fail';
      expectations['router-outage'] = 'fail';
      expectations['nspawn-proxy-ndp'] = 'fail';
    }
  }
  return {
    design,
    params: { ...p },
    files,
    units,
    probe: {
      name: p.machine,
      network: a.link,
      listenPort: p.probePort,
      ipv6: a.container6,
      exec: `nsenter -t $(machinectl show -p Leader --value ${p.machine}) -a`,
      unit: probeUnit,
    },
    networks: [{ name: a.link, subnets: [p.ipv4Subnet, p.ipv6Prefix], ipv6: true }],
    sysctls: { 'net.ipv6.conf.all.forwarding': '1' },
    egressSource: kind === 'ula-nat' ? 'host' : 'container',
    expectations,
  };
}

export const nspawnUlaNat: Design<NspawnParams> = {
  name: 'nspawn-ula-nat',
  summary: 'systemd-nspawn container on a ve- link: networkd ULA + IPv6 masquerade (egress as the host GUA)',
  parseParams: (raw, config) => parseNspawnParams('ula-nat', raw, config),
  plan: (p, config, layout) => planNspawn('ula-nat', p, config, layout),
};

export const nspawnDelegated: Design<NspawnParams> = {
  name: 'nspawn-delegated',
  summary: 'systemd-nspawn container on a ve- link with a GUA sub-prefix of the host /64, IPv6ProxyNDP on enp1s0',
  parseParams: (raw, config) => parseNspawnParams('delegated', raw, config),
  plan: (p, config, layout) => planNspawn('delegated', p, config, layout),
};
