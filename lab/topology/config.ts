/**
 * The one typed lab config. Defaults reproduce web-arm; every field can be overridden with
 * `--set path=value`. Shape is checked here (zod); meaning (addresses, overlaps) in validate.ts.
 */
import { z } from 'zod';

const port = z.number().int().min(1).max(65535);
const portMapping = z
  .object({ hostPort: port, containerPort: port, protocol: z.enum(['tcp', 'udp']) })
  .strict();

const serviceContainer = z
  .object({
    name: z.string(),
    /** What the stand-in listens on inside the container. */
    listenTcp: z.array(port),
    listenUdp: z.array(port),
    publish: z.array(portMapping),
  })
  .strict();

export const labConfigSchema = z
  .object({
    lab: z
      .object({
        /** Lab name: the ownership mark of everything the lab creates. */
        name: z.string(),
        /**
         * What web-arm is: network namespaces with emulated systemd, a QEMU guest with real
         * systemd, or a NixOS VM made by the top-level Vagrantfile.
         */
        tier: z.enum(['netns', 'qemu', 'vagrant']),
        /** The guest's OS on the qemu tier (Debian trixie, or NixOS built by nix); the vagrant tier's is NixOS. */
        guest: z.enum(['debian', 'nixos']),
        /** The guest's architecture on the qemu tier (web-arm itself is aarch64). */
        arch: z.enum(['x86_64', 'aarch64']),
        /** Where reports, persistent podman state and captures go (default: ./.lab/<name>). */
        stateDir: z.string(),
        /**
         * qemu tier: restore a saved clean web-arm instead of booting when one is cached (and
         * save one after a cold boot). false (`lab up --no-snapshot`): always a cold boot.
         */
        snapshot: z.boolean(),
        /**
         * qemu tier: restore web-arm with the design applied when this rendered system (base,
         * design, parameters) was saved before, and save it after a successful apply. false
         * (`lab up --no-design-snapshot`): the design is applied on the clean web-arm. Off when
         * `snapshot` is off.
         */
        designSnapshot: z.boolean(),
      })
      .strict(),
    image: z
      .object({
        suite: z.string(),
        mirror: z.string(),
      })
      .strict(),
    webArm: z
      .object({
        hostname: z.string(),
        uplink: z.string(),
        mac: z.string(),
        ipv6: z.object({ address: z.string(), prefixLength: z.number().int(), gateway: z.string() }).strict(),
        /** reverseName: what the IPv4 reverse-resolves to (the provider's rDNS, forward-confirmed); the GUA has none. */
        ipv4: z.object({ address: z.string(), gateway: z.string(), reverseName: z.string() }).strict(),
        firewall: z
          .object({
            allowedTcpPorts: z.array(port),
            allowedUdpPorts: z.array(port),
            allowPing: z.boolean(),
            /**
             * The host's own `networking.firewall.interfaces."podman+".allowedUDPPorts = [ 53 ]` (the
             * fix of nixpkgs#272480). Not a NixOS default: nixpkgs' podman module opens 53/udp only on
             * the default network's podman0, and only with its dns_enabled (off by default).
             */
            allowDnsOnPodmanBridges: z.boolean(),
            /** networking.firewall.logRefusedConnections: LOG refused TCP SYNs ("refused connection: "); on in nixos-25.11. */
            logRefusedConnections: z.boolean(),
            /** networking.firewall.checkReversePath: the rpfilter chain in mangle PREROUTING (true = strict, "loose", false). */
            checkReversePath: z.union([z.boolean(), z.literal('loose')]),
          })
          .strict(),
        podman: z
          .object({
            defaultNetworkSubnet: z.string(),
            /**
             * netavark's firewall driver (containers.conf `network.firewall_driver`). Which one
             * production uses decides whether dockerd's FORWARD policy drops podman's traffic, so
             * the lab runs both. The netns tier's netavark (the machine's) has iptables only.
             */
            firewallDriver: z.enum(['iptables', 'nftables']),
          })
          .strict(),
        /**
         * dockerd beside podman (production sets virtualisation.docker.enable for one service's
         * direct `docker run`). Real on the qemu tier; the netns tier has no dockerd.
         */
        docker: z.object({ enabled: z.boolean() }).strict(),
        containers: z.array(serviceContainer),
      })
      .strict(),
    upstream: z
      .object({
        mac: z.string(),
        linkLocal: z.string(),
        ipv4Gateway: z.string(),
        internetIpv6: z.string(),
        internetIpv4: z.string(),
      })
      .strict(),
    internet: z
      .object({
        v6OnlyTarget: z.object({ name: z.string(), ipv6: z.string() }).strict(),
        v4OnlyTarget: z.object({ name: z.string(), ipv4: z.string() }).strict(),
        dns: z.object({ ipv6: z.string(), ipv4: z.string() }).strict(),
        client: z.object({ ipv6: z.string(), ipv4: z.string() }).strict(),
        /** The dual-stack mail exchanger: an SMTP sink on port 25; the DNS serves its A, AAAA and the MX of its domain. */
        mx: z.object({ name: z.string(), ipv6: z.string(), ipv4: z.string() }).strict(),
      })
      .strict(),
    /**
     * Topology variants. `ipv4: false` makes web-arm IPv6-only (no IPv4 on its uplink); the
     * upstream router then adds DNS64 (unbound) and NAT64 (tayga) toward the IPv4 internet.
     */
    topology: z
      .object({
        ipv4: z.boolean(),
        /**
         * The NAT64 prefix (a /96), network-specific by default (the router operator's 2001:db8:64::/96):
         * tayga refuses the well-known 64:ff9b::/96 for non-global IPv4 such as the lab's TEST-NET-2
         * internet (RFC 6052 §3.1), and refuses RFC 8215's 64:ff9b:1::/48 as reserved.
         */
        nat64Prefix: z.string(),
        /** The router's private IPv4 pool for NAT64 mappings (masqueraded to its internet address). */
        nat64Pool: z.string(),
      })
      .strict(),
    design: z
      .object({
        name: z.string(),
        params: z.record(z.string(), z.unknown()),
      })
      .strict(),
  })
  .strict();

export type LabConfig = z.infer<typeof labConfigSchema>;
export type ServiceContainer = z.infer<typeof serviceContainer>;
export type PortMapping = z.infer<typeof portMapping>;

/** This machine's architecture as the qemu tier names it (a guest of it runs without emulating the CPU). */
export function nativeArch(): 'x86_64' | 'aarch64' {
  return process.arch === 'arm64' ? 'aarch64' : 'x86_64';
}

const rustdeskTcp = [21115, 21116, 21117, 21118, 21119];

/**
 * A config recorded by an earlier version of the lab (a state.json written before a field
 * existed) with the fields it lacks taken from the defaults; what it recorded wins. Objects are
 * merged field by field, arrays and values are taken whole. Pure.
 */
export function withConfigDefaults(recorded: LabConfig): LabConfig {
  return mergeUnder(defaultConfig(), recorded) as LabConfig;
}

function mergeUnder(defaults: unknown, recorded: unknown): unknown {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (recorded === undefined) return defaults;
  if (!isObject(defaults) || !isObject(recorded)) return recorded;
  const merged: Record<string, unknown> = { ...recorded };
  for (const [key, value] of Object.entries(defaults)) merged[key] = mergeUnder(value, recorded[key]);
  return merged;
}

export function defaultConfig(): LabConfig {
  return {
    lab: { name: 'main', tier: 'netns', guest: 'debian', arch: nativeArch(), stateDir: '', snapshot: true, designSnapshot: true },
    image: { suite: 'bookworm', mirror: 'http://deb.debian.org/debian' },
    webArm: {
      hostname: 'web-arm',
      uplink: 'enp1s0',
      mac: '96:00:02:c0:12:43',
      ipv6: { address: '2a01:4f8:c012:43b::1', prefixLength: 64, gateway: 'fe80::1' },
      ipv4: { address: '203.0.113.10', gateway: '172.31.1.1', reverseName: 'web-arm.example' },
      // NixOS 25.11's defaults but the ports production opens.
      firewall: { allowedTcpPorts: [22], allowedUdpPorts: [], allowPing: true, allowDnsOnPodmanBridges: false, logRefusedConnections: true, checkReversePath: true },
      podman: { defaultNetworkSubnet: '10.88.0.0/16', firewallDriver: 'iptables' },
      docker: { enabled: true },
      containers: [
        {
          name: 'collabora',
          listenTcp: [9980],
          listenUdp: [],
          publish: [{ hostPort: 9980, containerPort: 9980, protocol: 'tcp' }],
        },
        {
          name: 'rustdesk-server',
          listenTcp: rustdeskTcp,
          listenUdp: [21116],
          publish: [
            ...rustdeskTcp.map((p) => ({ hostPort: p, containerPort: p, protocol: 'tcp' as const })),
            { hostPort: 21116, containerPort: 21116, protocol: 'udp' as const },
          ],
        },
      ],
    },
    upstream: {
      mac: '02:00:00:00:00:01',
      linkLocal: 'fe80::1',
      ipv4Gateway: '172.31.1.1',
      internetIpv6: '2001:db8:ffff::1/64',
      internetIpv4: '198.51.100.1/24',
    },
    internet: {
      v6OnlyTarget: { name: 'v6only.example', ipv6: '2001:db8:ffff::80' },
      v4OnlyTarget: { name: 'v4only.example', ipv4: '198.51.100.80' },
      dns: { ipv6: '2001:db8:ffff::53', ipv4: '198.51.100.53' },
      client: { ipv6: '2001:db8:ffff::100', ipv4: '198.51.100.100' },
      mx: { name: 'mx.example', ipv6: '2001:db8:ffff::25', ipv4: '198.51.100.25' },
    },
    topology: { ipv4: true, nat64Prefix: '2001:db8:64::/96', nat64Pool: '192.168.255.0/24' },
    design: {
      name: 'v6egress',
      params: {},
    },
  };
}
