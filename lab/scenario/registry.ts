/**
 * The one scenario registry: every scenario's id, title, what it needs of web-arm (a capability,
 * a topology variant or design), whether it only observes (may run beside others), and the
 * baselines it reads. Scenario files (scenarios/NN-<id>.scenario.ts) hold only their story.
 * Pure.
 */
import type { CapabilityName } from '../tiers/capabilityTypes.ts';
import type { LabConfig } from '../topology/config.ts';
import { isV6Only } from '../topology/v6only.ts';
import type { BaselineRef } from './baselineTypes.ts';
import { SCENARIO_IDS, type ScenarioId } from './ids.ts';

export interface ScenarioEntry {
  id: ScenarioId;
  title: string;
  /**
   * An observing scenario only looks at the lab (probes, captures, reads of state, things of its
   * own no other scenario touches): what it does, in words. Where web-arm takes commands from
   * several processes at once, observing scenarios run first, side by side; every other one
   * runs alone, in file order (they build on each other's effects: redeploy, reboot, faults).
   */
  observing?: string;
  /** What web-arm must be able to do for the story (else "skipped" with why, never "pass"). */
  requires?: { capability: CapabilityName; why: string };
  /** The topology variants or designs the story applies to (else "skipped" with why). */
  variant?: { test: (config: LabConfig) => boolean; why: string };
  /** The baselines it reads (the lifecycle takes them at their moments). */
  baselines?: readonly BaselineRef[];
  /** A longer limit for a story with real reboots and restarts (default 10 minutes). */
  timeoutMs?: number;
  /** The story reboots web-arm for real where the tier can: it gets a fork of its own in `lab test --parallel`. */
  realReboot?: true;
}

const HOST_AT_APPLY: readonly BaselineRef[] = [
  { kind: 'host', moment: 'at-up' },
  { kind: 'host', moment: 'after-apply' },
  { kind: 'host', moment: 'after-first-container' },
];
const WORKLOAD: readonly BaselineRef[] = [
  { kind: 'workload', moment: 'at-up' },
  { kind: 'workload', moment: 'after-reboot' },
];

export const SCENARIOS: Readonly<Record<ScenarioId, Omit<ScenarioEntry, 'id'>>> = {
  'egress-nat66': { title: 'NAT66 egress: the v6-only target sees the host GUA', observing: 'probes from the v6egress container; a capture on the router link' },
  'egress-v4': { title: "IPv4 egress: the v4-only target sees web-arm's IPv4", observing: 'a probe from the v6egress container' },
  'isolation-default': {
    title: 'default-network containers are untouched',
    observing: 'probes from and to the default-network containers; reads their state and the default network',
    baselines: WORKLOAD,
  },
  'host-unchanged': {
    title: "the host's own v6 address, route and RA settings are unchanged",
    observing: "reads web-arm's addresses, routes and sysctls; a probe from web-arm",
    baselines: HOST_AT_APPLY,
  },
  'idempotent-redeploy': { title: 'redeploying is a no-op: everything as before it' },
  'idempotent-reboot': { title: 'after a reboot everything is as before it', realReboot: true },
  'no-inbound': { title: 'no inbound path to the v6egress container', observing: 'probes from the internet and from web-arm' },
  'container-dns': { title: 'container DNS through aardvark-dns, and the firewall gotcha' },
  'router-outage': { title: 'egress recovers after an upstream outage' },
  'firewall-reload': { title: "firewall reloads and netavark's rules" },
  drift: { title: 'a drifted v6egress network is caught' },
  'subnet-collision': { title: 'a subnet collision fails visibly' },
  'ra-control': {
    title: 'RA-learned routes vs forwarding, and the static web-arm',
    observing: 'a namespace and a router port of its own (removed at its end); sysctls only in its own namespace',
  },
  'inbound-reachability': { title: "the container's own address is reachable from the internet", observing: "probes from the internet; reads the router's neighbour table" },
  'host-64-touched': { title: "the host's /64 is left alone", observing: "reads web-arm's addresses, routes and neighbour proxies" },
  'mail-path': {
    title: 'mail leaves over IPv4 before and after the change',
    requires: { capability: 'postfix', why: 'the story of web-arm\'s own postfix (the netns tier has no MTA)' },
    baselines: [{ kind: 'mail', moment: 'at-up' }],
  },
  'docker-coexistence': {
    title: "podman's containers keep working beside dockerd",
    requires: { capability: 'dockerd', why: 'the story of a real dockerd beside podman (the netns tier has none; webArm.docker.enabled=false turns it off)' },
    // Two docker restarts and a real reboot (each a few minutes under TCG), the fix proven after.
    timeoutMs: 30 * 60_000,
    realReboot: true,
  },
  'inbound-portfwd': { title: 'a published port answers over IPv6 and goes with its container' },
  'xlat-default-v4': {
    title: 'IPv6-only host: default-network containers reach IPv4 through CLAT and NAT64',
    variant: { test: isV6Only, why: 'the story of an IPv6-only web-arm (--set topology.ipv4=false); this one has IPv4' },
  },
  'nspawn-port-forward': {
    title: 'an nspawn port forward answers where the host firewall would drop it (io.systemd.nat)',
    requires: { capability: 'nspawn', why: "systemd-nspawn needs a real systemd with machined (the qemu tier's Debian guest)" },
    variant: { test: (c) => c.design.name.startsWith('nspawn-'), why: 'a story of the systemd-nspawn designs (their --port forward)' },
  },
  'mail-from-container': {
    title: "a container's mail reaches the MX with forward-confirmed reverse DNS",
    observing: "a mail from the design's probe straight to the mail exchanger; reads the sink's log (and web-arm's postfix sends one where it runs)",
  },
  'nspawn-proxy-ndp': {
    title: 'a delegated prefix needs IPv6ProxyNDP on the on-link /64',
    requires: { capability: 'nspawn', why: "systemd-nspawn and networkd need a real systemd (the qemu tier's Debian guest)" },
    variant: { test: (c) => c.design.name === 'nspawn-delegated', why: 'a story of nspawn-delegated (a GUA sub-prefix on the container link)' },
  },
};

export function scenarioEntry(id: ScenarioId): ScenarioEntry {
  return { id, ...SCENARIOS[id] };
}

/** Every scenario in run order. */
export function allScenarios(): ScenarioEntry[] {
  return SCENARIO_IDS.map(scenarioEntry);
}

export function isObserving(id: string): boolean {
  return Boolean((SCENARIOS as Record<string, Omit<ScenarioEntry, 'id'>>)[id]?.observing);
}

/** The baselines some scenario reads (what the lifecycle takes). */
export function declaredBaselines(): BaselineRef[] {
  return allScenarios().flatMap((s) => s.baselines ?? []);
}
