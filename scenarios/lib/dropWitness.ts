/**
 * Where the stories' negative probes are witnessed (lab/scenario/witness.ts): which capture
 * points and which packets prove that something was dropped, per kind of probe.
 */
import ipaddr from 'ipaddr.js';
import { routerSideOfUplink, webArmBridge, type WitnessSpec } from '../../lab/scenario/witness.ts';
import type { TimedPacket } from '../../lab/scenario/pcapText.ts';
import type { ScenarioRun } from '../../lab/scenario/recorder.ts';
import { cidrContains, normalizeAddress, type Cidr } from '../../lab/topology/addresses.ts';

function same(a: string, b: string): boolean {
  return a.includes(':') === b.includes(':') && normalizeAddress(a) === normalizeAddress(b);
}

const isSyn = (r: TimedPacket) => r.summary.startsWith('Flags [S]');

/**
 * A connection from the internet client to web-arm's dst:port that nothing may answer: its SYN
 * enters on the router's side of web-arm's uplink; it would leave toward a container on
 * web-arm's bridge of the design network (`exitPorts`: the port there, after a DNAT too).
 */
export async function inboundDrop(t: ScenarioRun, network: string, dst: string, port: number, exitPorts: number[] = [port]): Promise<WitnessSpec> {
  const client = t.lab.state.config.internet.client;
  const v6 = dst.includes(':');
  const from = v6 ? client.ipv6 : client.ipv4;
  const ip = v6 ? 'ip6' : 'ip';
  return {
    entry: routerSideOfUplink(t, [ip, 'and', 'tcp', 'and', 'dst', 'port', String(port)]),
    exit: await webArmBridge(t, network, [ip, 'and', 'tcp', 'and', '(', ...exitPorts.flatMap((p, i) => (i ? ['or', 'port', String(p)] : ['port', String(p)])), ')']),
    entered: (r) => same(r.src, from) && same(r.dst, dst) && r.dport === port && isSyn(r),
    left: (r) => same(r.src, from) && r.dport !== undefined && exitPorts.includes(r.dport),
  };
}

/**
 * The probe's own IPv6 connection to the v6-only target after its NAT66 rules are gone: its SYN
 * leaves web-arm un-NATed, from the ULA (seen on the router's side of the uplink), and no answer
 * ever comes back to it on that link (the internet has no route to a ULA).
 */
export function unansweredFromUla(t: ScenarioRun, ula: Cidr, target: string): WitnessSpec {
  const fromUla = (a: string) => a.includes(':') && cidrContains(ula, ipaddr.parse(a));
  const point = routerSideOfUplink(t, ['ip6', 'and', 'tcp', 'and', 'port', '80']);
  return {
    entry: point,
    exit: point,
    entered: (r) => fromUla(r.src) && same(r.dst, target) && r.dport === 80 && isSyn(r),
    left: (r) => same(r.src, target) && fromUla(r.dst),
  };
}

/**
 * A DNS query from a container to the resolver on web-arm's bridge that nothing may answer: the
 * query enters web-arm on the bridge, and an answer would leave from the resolver on the same
 * bridge (one capture for both).
 */
export async function unansweredDns(t: ScenarioRun, network: string, server: string): Promise<WitnessSpec> {
  const point = await webArmBridge(t, network, ['udp', 'and', 'port', '53']);
  return {
    entry: point,
    exit: point,
    entered: (r) => same(r.dst, server) && r.dport === 53,
    left: (r) => same(r.src, server) && r.sport === 53,
  };
}

/**
 * A connection from the internet client to a listener on web-arm itself that its firewall must
 * drop: the SYN enters on the router's side of web-arm's uplink; an answer from the listener
 * would leave web-arm on that same link (one capture for both; watchable on every tier).
 */
export function unansweredByHost(t: ScenarioRun, dst: string, port: number): WitnessSpec {
  const client = t.lab.state.config.internet.client;
  const v6 = dst.includes(':');
  const from = v6 ? client.ipv6 : client.ipv4;
  const point = routerSideOfUplink(t, [v6 ? 'ip6' : 'ip', 'and', 'tcp', 'and', 'port', String(port)]);
  return {
    entry: point,
    exit: point,
    entered: (r) => same(r.src, from) && same(r.dst, dst) && r.dport === port && isSyn(r),
    left: (r) => same(r.src, dst) && r.sport === port && same(r.dst, from),
  };
}

/**
 * Traffic of a container's own address that gets nothing back: its first packet (a name lookup
 * or a SYN) is seen leaving web-arm on the router's side of the uplink; nothing addressed to it
 * comes back on that link (the router cannot resolve it by NDP). One capture for both.
 */
export function unreturned(t: ScenarioRun, address: string): WitnessSpec {
  const point = routerSideOfUplink(t, ['ip6', 'and', 'host', address]);
  return {
    entry: point,
    exit: point,
    entered: (r) => same(r.src, address),
    left: (r) => same(r.dst, address),
  };
}
