/**
 * The resolved lab: every name, path and address the lab will create, derived from the
 * validated config before anything is created. Pure and deterministic.
 */
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { LabConfig } from './config.ts';

export const LABEL_LAB = 'v6lab.lab';
export const LABEL_NODE = 'v6lab.node';
/** Where the responder and the SMTP sink of every internet host log what they saw (JSON lines). */
export const SEEN_LOG = '/var/log/v6lab/seen.log';
/** The port of the mail exchanger's SMTP sink. */
export const SMTP_PORT = 25;

export type InternetRole = 'v6only-target' | 'v4only-target' | 'dns' | 'internet-client' | 'mx';

export interface InternetHostPlan {
  node: InternetRole;
  containerName: string;
  netnsName: string;
  ipv6?: string;
  ipv4?: string;
  /** The container's main command. */
  command: string[];
  /** Interface names: temporary (root namespace, unique per lab) and final. */
  tmpIf: string;
  peerTmpIf: string;
  ifname: string;
  peerIfname: string;
}

export interface LabPlan {
  name: string;
  config: LabConfig;
  /** Interface-name prefix in the root namespace: 'v6l' + 10 hex of the lab name (13 chars). */
  linkPrefix: string;
  netnsPrefix: string;
  runtimeDir: string;
  stateDir: string;
  engineSocket: string;
  webArm: {
    node: 'web-arm';
    netnsName: string;
    netnsPath: string;
    mountNsFile: string;
    runDir: string;
    persistentDir: string;
    etcDir: string;
    graphRoot: string;
    networkConfigDir: string;
    apiSocket: string;
    uplinkTmp: string;
  };
  upstream: {
    node: 'upstream';
    containerName: string;
    netnsName: string;
    toWebArmIf: string;
    toWebArmTmp: string;
    bridge: string;
  };
  internet: InternetHostPlan[];
}

export function labHash(name: string): string {
  // 40 bits: link names stay within 15 characters (v6l + 10 + 2) and labs do not collide.
  return createHash('sha256').update(name).digest('hex').slice(0, 10);
}

export function runtimeRootFor(name: string): string {
  return join(process.env.V6LAB_RUNTIME_DIR ?? '/run/v6lab', name);
}

export function defaultStateDir(name: string): string {
  return resolve('.lab', name);
}

export function planLab(config: LabConfig): LabPlan {
  const name = config.lab.name;
  const linkPrefix = `v6l${labHash(name)}`;
  const netnsPrefix = `v6lab-${name}-`;
  const runtimeDir = runtimeRootFor(name);
  const stateDir = config.lab.stateDir ? resolve(config.lab.stateDir) : defaultStateDir(name);
  const webArmState = join(stateDir, 'web-arm');
  const webArmRun = join(runtimeDir, 'web-arm');
  const inet = config.internet;
  const responder = (label: string, ...listen: string[]) => [
    '/usr/local/bin/v6lab-responder', '--name', label, ...(listen.length ? listen : ['--http', '80']), '--log', SEEN_LOG,
  ];
  // web-arm's IPv4 has the provider's reverse DNS (a PTR and the name's A, so it is forward-confirmed); its GUA has none.
  const webArmReverse = config.topology.ipv4 ? [config.webArm.ipv4.reverseName] : [];
  const localDomains = [...new Set([inet.v6OnlyTarget.name, inet.v4OnlyTarget.name, inet.mx.name, ...webArmReverse].map(parentDomain))];
  const hosts: Array<Omit<InternetHostPlan, 'containerName' | 'netnsName' | 'tmpIf' | 'peerTmpIf' | 'ifname' | 'peerIfname'>> = [
    { node: 'v6only-target', ipv6: inet.v6OnlyTarget.ipv6, command: responder(inet.v6OnlyTarget.name) },
    { node: 'v4only-target', ipv4: inet.v4OnlyTarget.ipv4, command: responder(inet.v4OnlyTarget.name) },
    {
      node: 'dns',
      ipv6: inet.dns.ipv6,
      ipv4: inet.dns.ipv4,
      command: [
        'dnsmasq', '--keep-in-foreground', '--no-resolv', '--no-hosts', '--user=root', '--log-queries', '--log-facility=-',
        ...localDomains.map((d) => `--local=/${d}/`),
        `--host-record=${inet.v6OnlyTarget.name},${inet.v6OnlyTarget.ipv6}`,
        `--host-record=${inet.v4OnlyTarget.name},${inet.v4OnlyTarget.ipv4}`,
        `--host-record=${inet.mx.name},${inet.mx.ipv4},${inet.mx.ipv6}`,
        `--mx-host=${parentDomain(inet.mx.name)},${inet.mx.name},10`,
        ...webArmReverse.map((name) => `--host-record=${name},${config.webArm.ipv4.address}`),
        // Reverse lookups of any other address are answered here (no record: NXDOMAIN), never forwarded.
        '--local=/in-addr.arpa/',
        '--local=/ip6.arpa/',
      ],
    },
    { node: 'internet-client', ipv6: inet.client.ipv6, ipv4: inet.client.ipv4, command: ['sleep', 'infinity'] },
    // Appended last: the veth names of the hosts before it (h0…h3) stay as they were.
    // The sink checks each client's forward-confirmed reverse DNS with the lab's DNS (and no other).
    { node: 'mx', ipv6: inet.mx.ipv6, ipv4: inet.mx.ipv4, command: responder(inet.mx.name, '--smtp', String(SMTP_PORT), '--dns', inet.dns.ipv6) },
  ];
  return {
    name,
    config,
    linkPrefix,
    netnsPrefix,
    runtimeDir,
    stateDir,
    engineSocket: join(runtimeDir, 'engine.sock'),
    webArm: {
      node: 'web-arm',
      netnsName: `${netnsPrefix}web-arm`,
      netnsPath: `/run/netns/${netnsPrefix}web-arm`,
      mountNsFile: join(runtimeDir, 'web-arm.mnt'),
      runDir: webArmRun,
      persistentDir: webArmState,
      etcDir: join(webArmState, 'etc'),
      graphRoot: join(webArmState, 'storage'),
      networkConfigDir: join(webArmState, 'etc', 'containers', 'networks'),
      apiSocket: join(webArmRun, 'podman.sock'),
      uplinkTmp: `${linkPrefix}w0`,
    },
    upstream: {
      node: 'upstream',
      containerName: `v6lab-${name}-upstream`,
      netnsName: `${netnsPrefix}upstream`,
      toWebArmIf: 'web-arm',
      toWebArmTmp: `${linkPrefix}u0`,
      bridge: 'inet0',
    },
    internet: hosts.map((h, i) => ({
      ...h,
      containerName: `v6lab-${name}-${h.node}`,
      netnsName: `${netnsPrefix}${h.node}`,
      tmpIf: `${linkPrefix}h${i}`,
      peerTmpIf: `${linkPrefix}b${i}`,
      ifname: 'eth0',
      peerIfname: `p-${h.node}`.slice(0, 15),
    })),
  };
}

export function parentDomain(name: string): string {
  return name.split('.').slice(1).join('.');
}

/** Every node name a user can address (lab exec, status). */
export function nodeNames(plan: LabPlan): string[] {
  return [plan.webArm.node, plan.upstream.node, ...plan.internet.map((h) => h.node)];
}

export interface VethEndPlan {
  netns: string;
  tmpName: string;
  name: string;
  mac?: string;
}

export interface VethPlan {
  id: string;
  a: VethEndPlan;
  b: VethEndPlan;
}

/** Every veth pair the lab creates, resolved before anything is deployed. */
export function planLinks(plan: LabPlan): VethPlan[] {
  const w = plan.config.webArm;
  return [
    {
      id: 'web-arm-uplink',
      a: { netns: plan.webArm.netnsName, tmpName: plan.webArm.uplinkTmp, name: w.uplink, mac: w.mac },
      b: { netns: plan.upstream.netnsName, tmpName: plan.upstream.toWebArmTmp, name: plan.upstream.toWebArmIf, mac: plan.config.upstream.mac },
    },
    ...plan.internet.map((h) => ({
      id: `internet-${h.node}`,
      a: { netns: h.netnsName, tmpName: h.tmpIf, name: h.ifname },
      b: { netns: plan.upstream.netnsName, tmpName: h.peerTmpIf, name: h.peerIfname },
    })),
  ];
}
