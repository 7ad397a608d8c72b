/**
 * The checks the scenarios are made of. Each is a small story with evidence; the reboot
 * scenario runs them all again after web-arm comes back.
 */
import ipaddr from 'ipaddr.js';
import { relative } from 'node:path';
import { probeExecOf, probeUnitOf } from '../../lab/designs/design.ts';
import { stopCapture } from '../../lab/scenario/capture.ts';
import type { BaselineMoment } from '../../lab/scenario/baselineTypes.ts';
import type { ScenarioRun } from '../../lab/scenario/recorder.ts';
import { diffSnapshots, takeHostSnapshot, type HostSnapshot } from '../../lab/scenario/observe/hostSnapshot.ts';
import { inspectContainers } from '../../lab/scenario/observe/workloadSnapshot.ts';
import { cidrContains, cidrOf, normalizeAddress } from '../../lab/topology/addresses.ts';
import { isV6Only, nat64PublicIpv4, synthesize } from '../../lab/topology/v6only.ts';
import { recordInOrder } from '../../lab/scenario/recorder.ts';
import { startWitnessedDrop } from '../../lab/scenario/witness.ts';
import { inboundDrop } from './dropWitness.ts';
import { markRefusals, witnessRefusal } from './refusals.ts';

export function facts(t: ScenarioRun) {
  const config = t.lab.state.config;
  const design = t.lab.design;
  const network = design.networks[0]!;
  const ula = network.subnets.find((s) => s.includes(':'))!;
  return {
    gua: normalizeAddress(config.webArm.ipv6.address),
    ipv4: config.webArm.ipv4.address,
    /** The IPv6-only variant: web-arm has no IPv4; IPv4-only targets are reached through the router's NAT64. */
    v6Only: isV6Only(config),
    /** What an IPv4-only target sees for web-arm's IPv4 egress: its own IPv4, or on the v6-only variant the NAT64's. */
    v4Seen: isV6Only(config) ? nat64PublicIpv4(config) : config.webArm.ipv4.address,
    /** The AAAA DNS64 synthesizes for the v4-only target (v6-only variant). */
    v4Synthesized: synthesize(config.topology.nat64Prefix, config.internet.v4OnlyTarget.ipv4),
    uplink: config.webArm.uplink,
    v6Name: config.internet.v6OnlyTarget.name,
    v6Target: normalizeAddress(config.internet.v6OnlyTarget.ipv6),
    v4Name: config.internet.v4OnlyTarget.name,
    v4Target: config.internet.v4OnlyTarget.ipv4,
    probe: design.probe.name,
    /** Runs a command inside the probe (podman exec by default; the design says otherwise). */
    probeExec: probeExecOf(design.probe),
    probeUnit: probeUnitOf(design.probe),
    /** Where the probe's IPv6 egress should come from: the host GUA (NAT66) or its own address (routed). */
    egress: design.egressSource === 'host' ? normalizeAddress(config.webArm.ipv6.address) : normalizeAddress(design.probe.ipv6 ?? ''),
    egressLabel: design.egressSource === 'host' ? 'the host GUA' : "the container's own GUA",
    probePort: design.probe.listenPort,
    network: network.name,
    ula,
    ulaCidr: (() => {
      const [a, l] = ipaddr.parseCIDR(ula);
      return cidrOf(a, l);
    })(),
  };
}

function loggedClients(logText: string): string[] {
  return logText
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => {
      try {
        return [String((JSON.parse(line) as { client: string }).client)];
      } catch {
        return [];
      }
    });
}

/** The probe on the v6egress network reaches the v6-only target, seen as the host GUA. */
export async function checkEgressNat66(t: ScenarioRun, options: { capture: boolean }): Promise<void> {
  const f = facts(t);
  const { webArm, upstream, v6OnlyTarget } = t.lab;
  await t.check(`the probe has an address in ${f.ula}`, webArm, `${f.probeExec} ip -6 -o addr show scope global`, {
    expected: `an address in ${f.ula}`,
    test: (out) => out.split(/\s+/).some((w) => w.includes('/') && w.includes(':') && cidrContains(f.ulaCidr, ipaddr.parse(w.split('/')[0]!))),
  });
  const capture = options.capture
    ? await t.lab.capture('upstream', t.lab.plan.upstream.toWebArmIf, `${t.attachmentDir}/uplink-${Date.now()}.pcap`, ['ip6'])
    : undefined;
  await t.check(`curl -6 ${f.v6Name} by name from the probe`, webArm, `${f.probeExec} curl -6 -sS -m 10 http://${f.v6Name}/`, {
    expected: `the target answers with the client address it saw: ${f.egress} (${f.egressLabel})`,
    test: (out) => normalizeAddress(out) === f.egress,
  });
  // Two echo requests 0.2 s apart (not ping's default second): the same proof, 0.8 s sooner.
  await t.check('ping6 from the probe', webArm, `${f.probeExec} ping -6 -c 2 -i 0.2 -W 3 ${f.v6Name}`, {
    expected: '2 packets transmitted, 2 received',
    test: (out) => /2 packets transmitted, 2 received/.test(out),
  });
  if (capture) {
    const rows = await stopCapture(capture);
    // With NAT66 nothing from the container subnet may leave; routed, the container's own address does.
    const fromUla = rows.filter((r) => r.family === 6 && cidrContains(f.ulaCidr, ipaddr.parse(r.src)) && normalizeAddress(r.src) !== f.egress);
    const guaToTarget = rows.filter((r) => r.family === 6 && normalizeAddress(r.src) === f.egress && normalizeAddress(r.dst) === f.v6Target);
    t.observe(
      `capture on the router's web-arm link: ${f.egressLabel} is the source`,
      'upstream',
      `tcpdump -i ${t.lab.plan.upstream.toWebArmIf} ip6 → ${relative(process.cwd(), capture.file)}`,
      `packets ${f.egress} → ${f.v6Target}, none from ${f.ula} otherwise`,
      `${rows.length} IPv6 packets; ${guaToTarget.length} from ${f.egress} to ${f.v6Target}; ${fromUla.length} from ${f.ula}${fromUla[0] ? ` (first: ${fromUla[0].src} → ${fromUla[0].dst})` : ''}`,
      guaToTarget.length > 0 && fromUla.length === 0,
      [capture.file],
    );
  }
  await t.check('the v6-only target logged the host GUA as client', v6OnlyTarget, 'tail -n 100 /var/log/v6lab/seen.log', {
    expected: `a request from ${f.egress}`,
    test: (out) => loggedClients(out).some((c) => normalizeAddress(c) === f.egress),
  });
  t.summary = `target saw ${f.egress} (${f.egressLabel}; probe in ${f.ula})`;
}

/** The probe reaches the v4-only target, seen as web-arm's IPv4. */
export async function checkEgressV4(t: ScenarioRun): Promise<void> {
  const f = facts(t);
  if (f.v6Only) return checkEgressV4ThroughNat64(t);
  await t.check(`curl -4 ${f.v4Name} by name from the probe`, t.lab.webArm, `${f.probeExec} curl -4 -sS -m 10 http://${f.v4Name}/`, {
    expected: `the target answers with the client address it saw: ${f.ipv4}`,
    test: (out) => out === f.ipv4,
  });
  await t.check('the v4-only target logged web-arm\'s IPv4 as client', t.lab.v4OnlyTarget, 'tail -n 100 /var/log/v6lab/seen.log', {
    expected: `a request from ${f.ipv4}`,
    test: (out) => loggedClients(out).includes(f.ipv4),
  });
  t.summary = `target saw ${f.ipv4}`;
}

/**
 * The IPv6-only variant: the probe reaches the v4-only target by name over IPv6, the name
 * resolving (DNS64) to an address in the NAT64 prefix; the target sees the NAT64's IPv4.
 */
async function checkEgressV4ThroughNat64(t: ScenarioRun): Promise<void> {
  const f = facts(t);
  await t.check(`${f.v4Name} resolves to a DNS64 address in the probe`, t.lab.webArm, `${f.probeExec} getent ahostsv6 ${f.v4Name} | awk '{print $1}' | sort -u`, {
    expected: `${f.v4Synthesized} (synthesized by the router's DNS64)`,
    test: (out) => out.split('\n').some((a) => normalizeAddress(a) === normalizeAddress(f.v4Synthesized)),
  });
  await t.check(`curl -6 ${f.v4Name} by name from the probe (NAT66 → NAT64)`, t.lab.webArm, `${f.probeExec} curl -6 -sS -m 10 http://${f.v4Name}/`, {
    expected: `the target answers with the client address it saw: ${f.v4Seen} (the NAT64's IPv4)`,
    test: (out) => out === f.v4Seen,
  });
  await t.check("the v4-only target logged the NAT64's IPv4 as client", t.lab.v4OnlyTarget, 'tail -n 100 /var/log/v6lab/seen.log', {
    expected: `a request from ${f.v4Seen}`,
    test: (out) => loggedClients(out).includes(f.v4Seen),
  });
  t.summary = `v6-only host: ${f.v4Name} via DNS64 (${f.v4Synthesized}) and NAT64; target saw ${f.v4Seen}`;
}

/**
 * The live containers stay on the default network, without IPv6, cannot reach the v6-only
 * target, still reach IPv4 and answer on their published ports; the default network is
 * unchanged; and they were not restarted since the baseline.
 */
export async function checkIsolationDefault(t: ScenarioRun): Promise<void> {
  const f = facts(t);
  const config = t.lab.state.config;
  const { webArm, internetClient } = t.lab;
  // The baseline of the current boot: before apply, or after the latest reboot.
  const baseline = [t.lab.baseline.workload('at-up'), t.lab.baseline.workload('after-reboot')]
    .filter((s): s is NonNullable<typeof s> => Boolean(s))
    .sort((a, b) => a.takenAt.localeCompare(b.takenAt))
    .at(-1);
  const baselineLabel = baseline?.label ?? 'before-apply';
  const original = t.lab.baseline.workload('at-up');
  t.observe('baseline recorded', 'lab', `snapshot workload-${baselineLabel}`, 'a workload snapshot taken by the lab', baseline ? `taken ${baseline.takenAt}` : 'missing', Boolean(baseline && original));
  const now = await inspectContainers(t.lab.webArm);
  // On the IPv6-only variant the host has no IPv4 to publish on: the ports are tried on its GUA.
  const hostAddress = f.v6Only ? `${f.gua}` : f.ipv4;
  // Every probe below is independent of the others and changes nothing: all are started at
  // once (the negative ones wait out their timeouts side by side) and recorded in story order.
  const probes = config.webArm.containers.map((c) => ({
    noV6: t.start(`${c.name} has no global or ULA IPv6 address`, webArm, `podman exec ${c.name} ip -6 -o addr show scope global`, {
      expected: 'no address',
      test: (out) => out === '',
    }),
    noV6Route: t.start(`${c.name} cannot reach the v6-only target`, webArm, `podman exec ${c.name} curl -6 -sS -m 5 http://[${f.v6Target}]/`, {
      expected: 'a failure (no IPv6 route)',
      exitZero: false,
    }),
    v4: t.start(`${c.name} still reaches the v4 target`, webArm, `podman exec ${c.name} curl -4 -sS -m 10 http://${f.v4Name}/`, {
      expected: `the target saw ${f.v4Seen}${f.v6Only ? " (the NAT64's IPv4: the host has no IPv4 of its own)" : ''}`,
      test: (out) => out === f.v4Seen,
    }),
    published: c.publish.map((p) =>
      t.start(
        `${c.name} answers on published ${p.hostPort}/${p.protocol} from the internet`,
        internetClient,
        // UDP: -W 1 ends nc on the first answer (it used to sit out -w 2 even after it); no answer still waits 2 s.
        p.protocol === 'tcp' ? `nc -w 3 ${hostAddress} ${p.hostPort} </dev/null` : `echo ping | nc -u -W 1 -w 2 ${hostAddress} ${p.hostPort}`,
        { expected: `"${c.name} ${p.containerPort} …" from the stand-in`, test: (out) => out.startsWith(`${c.name} ${p.containerPort} `) },
      ),
    ),
  }));
  await Promise.allSettled(probes.flatMap((p) => [p.noV6, p.noV6Route, p.v4, ...p.published].map((x) => x.done)));
  for (const [i, c] of config.webArm.containers.entries()) {
    const live = now.find((x) => x.name === c.name);
    t.observe(`${c.name} is only on the default network`, 'web-arm', `podman inspect ${c.name} (networks)`, 'podman', live ? live.networks.join(', ') : 'not running', live?.networks.join(',') === 'podman');
    const before = baseline!.containers.find((x) => x.name === c.name);
    t.observe(
      `${c.name} was not restarted`,
      'web-arm',
      `podman inspect ${c.name} (ID, StartedAt) vs ${baselineLabel}`,
      before ? `${before.id.slice(0, 12)} started ${before.startedAt}` : 'a baseline entry',
      live ? `${live.id.slice(0, 12)} started ${live.startedAt}` : 'not running',
      Boolean(before && live && before.id === live.id && before.startedAt === live.startedAt),
    );
    const p = probes[i]!;
    await p.noV6.record();
    await p.noV6Route.record();
    await p.v4.record();
    for (const published of p.published) await published.record();
  }
  const defaultNetwork = stableNetworkDefinition(await webArm.succeed('podman network inspect podman'));
  const originalNetwork = stableNetworkDefinition(original!.defaultNetwork);
  t.observe(
    'the default network is unchanged',
    'web-arm',
    'podman network inspect podman (without its regenerated "created" time and the attached containers)',
    `the same definition as before apply: ${originalNetwork.slice(0, 160)}`,
    defaultNetwork === originalNetwork ? 'identical' : `changed: ${defaultNetwork.slice(0, 300)}`,
    defaultNetwork === originalNetwork,
  );
  t.summary = `${config.webArm.containers.map((c) => c.name).join(', ')}: default network only, v4 + published ports work, no v6`;
}

/** Keys the design is allowed to change: IPv6 forwarding, which the kernel copies from all to default and each device. */
export function intendedChanges(uplink: string): string[] {
  return ['all', 'default', uplink].map((d) => `net.ipv6.conf.${d}.forwarding`);
}

/** web-arm's own address, routes and RA/forwarding settings differ from before apply only as intended. */
export async function checkHostUnchanged(t: ScenarioRun, labels: BaselineMoment[]): Promise<void> {
  const f = facts(t);
  const { webArm } = t.lab;
  const before = t.lab.baseline.host('at-up');
  t.observe('snapshot before apply', 'lab', 'snapshot before-apply', 'recorded by lab up', before ? `taken ${before.takenAt}` : 'missing', Boolean(before));
  const allowed = intendedChanges(f.uplink);
  const snapshots: HostSnapshot[] = labels.map((moment) => t.lab.baseline.host(moment)).filter((s): s is HostSnapshot => Boolean(s));
  t.observe('snapshots to compare', 'lab', labels.join(', '), `all of ${labels.join(', ')}`, snapshots.map((s) => s.label).join(', '), snapshots.length === labels.length);
  snapshots.push(await takeHostSnapshot(webArm, f.uplink, 'now'));
  for (const snap of snapshots) {
    const diffs = diffSnapshots(before!, snap);
    const unintended = diffs.filter((d) => !(allowed.includes(d.field) && d.after === '1'));
    t.observe(
      `host state ${snap.label} vs before-apply`,
      'web-arm',
      `ip addr/route show dev ${f.uplink}; sysctl accept_ra, forwarding`,
      `only ${allowed.join(', ')} → 1`,
      diffs.length ? diffs.map((d) => `${d.field}: ${d.before} → ${d.after}`).join('; ') : 'no difference',
      unintended.length === 0,
    );
  }
  const now = snapshots.at(-1)!;
  t.observe('accept_ra stays off on the uplink', 'web-arm', `sysctl net.ipv6.conf.${f.uplink}.accept_ra`, '0', now.sysctls[`net.ipv6.conf.${f.uplink}.accept_ra`] ?? '(absent)', now.sysctls[`net.ipv6.conf.${f.uplink}.accept_ra`] === '0');
  await t.check('the host routes to the v6-only target from its GUA', webArm, `ip -6 route get ${f.v6Target}`, {
    expected: `via ${t.lab.state.config.webArm.ipv6.gateway} dev ${f.uplink} src ${f.gua}`,
    test: (out) => out.includes(`dev ${f.uplink}`) && out.includes(`src ${f.gua}`),
  });
  await t.check('the host itself still reaches the v6-only target', webArm, `curl -6 -sS -m 10 http://${f.v6Name}/`, {
    expected: f.gua,
    test: (out) => normalizeAddress(out) === f.gua,
  });
  t.summary = `only ${allowed[0]} (and its kernel copies) changed; GUA, routes, accept_ra=0 kept`;
}

/** iptables-save and ip6tables-save as "family table rule" lines (counters zeroed, comments dropped). */
function normalizeRules(v4: string, v6: string): string[] {
  const rows: string[] = [];
  for (const [family, text] of [['ip4', v4], ['ip6', v6]] as const) {
    let table = '';
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      if (line.startsWith('*')) table = line.slice(1);
      else rows.push(`${family} ${table} ${line.replace(/\[\d+:\d+\]/g, '[0:0]')}`);
    }
  }
  return rows;
}

/** The nftables ruleset without counters (netavark's nftables driver keeps its rules there), one "nft <line>" per line. */
function normalizeNftRules(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => `nft ${l}`);
}

/** Every firewall rule of web-arm: iptables, ip6tables and nftables, counters zeroed. */
export async function firewallRules(webArm: ScenarioRun['lab']['webArm']): Promise<string[]> {
  return [
    ...normalizeRules(await webArm.succeed('iptables-save'), await webArm.succeed('ip6tables-save')),
    ...normalizeNftRules(await webArm.succeed('nft -s list ruleset')),
  ];
}

/**
 * `podman network inspect` as a definition: without what podman regenerates on every call (the
 * default network's "created") and without who is attached now (podman 5 lists "containers",
 * whose IDs are new after every boot).
 */
export function stableNetworkDefinition(json: string): string {
  const networks = JSON.parse(json) as Array<Record<string, unknown>>;
  return JSON.stringify(networks.map(({ created: _created, containers: _containers, ...rest }) => rest));
}

/** The engine CLI of the design's network (podman unless the design says docker). */
export function networkCli(t: ScenarioRun): 'podman' | 'docker' {
  return t.lab.design.networks[0]?.engine ?? 'podman';
}

/** The design network's ID and subnets, from the engine that owns it. */
export async function networkIdentity(t: ScenarioRun, options: { id?: boolean } = {}): Promise<string> {
  const f = facts(t);
  const format = networkCli(t) === 'docker' ? "'{{.Id}} {{range .IPAM.Config}}{{.Subnet}} {{end}}'" : "'{{.ID}} {{range .Subnets}}{{.Subnet}} {{end}}'";
  const [id = '', ...subnets] = (await t.lab.webArm.succeed(`${networkCli(t)} network inspect ${f.network} --format ${format}`)).trim().split(/\s+/);
  return options.id === false ? subnets.sort().join(' ') : `${id.slice(0, 12)} ${subnets.sort().join(' ')}`;
}

/**
 * Whether a network keeps its ID when its daemon starts again. Not Docker's predefined `bridge`:
 * dockerd deletes and recreates it at every start (moby, daemon/daemon_unix.go, "Clear stale
 * bridge network"), on any Docker host, so after a reboot or a docker restart it has a new ID
 * by design; its subnets are what identify it. podman's networks and Docker's user-defined ones
 * are kept (files, Docker's network store).
 */
export function networkKeepsIdAcrossDaemonStart(cli: 'podman' | 'docker', network: string): boolean {
  return !(cli === 'docker' && network === 'bridge');
}

/** Applying the design again changes nothing: one network, same ID and subnets, no new rules, no restarts. */
export async function checkRedeployIdempotent(t: ScenarioRun, times = 2): Promise<void> {
  const f = facts(t);
  const { webArm } = t.lab;
  const cli = networkCli(t);
  const networkBefore = await networkIdentity(t);
  const rulesBefore = await firewallRules(webArm);
  const containersBefore = await inspectContainers(t.lab.webArm);
  const probeStart = `${cli} inspect ${f.probe} --format '{{.Id}} {{.State.StartedAt}}'`;
  const probeBefore = cli === 'docker' ? await webArm.succeed(probeStart) : '';
  const ensure = t.lab.design.networks[0]?.ensureCommand ?? (cli === 'podman' ? `podman network exists ${f.network} || podman network create --ipv6 --subnet ${t.lab.design.networks[0]!.subnets.join(' --subnet ')} ${f.network}` : undefined);
  if (ensure) {
    await t.check('the ensure step (exists || create) succeeds on an existing network', webArm, ensure, { expected: 'exit 0 (exists)' });
  }
  for (let i = 1; i <= times; i++) {
    const result = await t.lab.apply(undefined, { tolerateFailures: false });
    const sw = result.switch;
    t.observe(
      `apply #${i} (like nixos-rebuild switch)`,
      'web-arm',
      'lab apply',
      'no unit started, restarted, reloaded or stopped',
      `added ${sw.added.length}, changed ${sw.changed.length}${sw.changed.length ? ` (${sw.changed.join(', ')})` : ''}, reloaded ${sw.reloaded.length}${sw.reloaded.length ? ` (${sw.reloaded.join(', ')})` : ''}, removed ${sw.removed.length}, unchanged ${sw.unchanged.length}`,
      sw.added.length + sw.changed.length + sw.reloaded.length + sw.removed.length === 0,
    );
  }
  const names = (await webArm.succeed(`${cli} network ls --format '{{.Name}}'`)).split('\n').filter((n) => n === f.network);
  t.observe(`exactly one ${f.network} network`, 'web-arm', `${cli} network ls`, '1', String(names.length), names.length === 1);
  const networkAfter = await networkIdentity(t);
  t.observe(`${f.network} keeps its ID and subnets`, 'web-arm', `${cli} network inspect ${f.network}`, networkBefore, networkAfter, networkBefore === networkAfter);
  const rulesAfter = await firewallRules(webArm);
  const added = rulesAfter.filter((r) => !rulesBefore.includes(r));
  const duplicated = rulesAfter.filter((r, i) => r.includes(' -A ') && rulesAfter.indexOf(r) !== i);
  t.observe(
    'no duplicated or new firewall rules',
    'web-arm',
    'iptables-save; ip6tables-save; nft -s list ruleset',
    `${rulesBefore.length} lines, the same ones`,
    `${rulesAfter.length} lines; ${added.length} new${added[0] ? ` (${added[0]})` : ''}; ${duplicated.length} duplicated${duplicated[0] ? ` (${duplicated[0]})` : ''}`,
    added.length === 0 && duplicated.length === 0 && rulesAfter.length === rulesBefore.length,
  );
  const containersAfter = await inspectContainers(t.lab.webArm);
  const restarted = containersBefore.filter((b) => {
    const a = containersAfter.find((x) => x.name === b.name);
    return !a || a.id !== b.id || a.startedAt !== b.startedAt;
  });
  t.observe('running containers were not restarted', 'web-arm', 'podman inspect (ID, StartedAt) of every container', `${containersBefore.map((c) => c.name).join(', ')} unchanged`, restarted.length ? `restarted: ${restarted.map((c) => c.name).join(', ')}` : 'all unchanged', restarted.length === 0);
  if (cli === 'docker') {
    const probeAfter = await webArm.succeed(probeStart);
    t.observe(`the Docker probe ${f.probe} was not restarted`, 'web-arm', probeStart, probeBefore, probeAfter, probeAfter === probeBefore);
  }
}

/** From the internet nothing reaches the probe (it publishes no port): not its ULA, not via the host's addresses. */
export async function checkNoInbound(t: ScenarioRun): Promise<void> {
  const f = facts(t);
  const { webArm, internetClient } = t.lab;
  const addr = await t.check('the probe listens on its port (control: reachable from web-arm itself)', webArm, `${f.probeExec} ip -6 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | head -n1`, {
    expected: `an address in ${f.ula}`,
    test: (out) => out !== '' && cidrContains(f.ulaCidr, ipaddr.parse(out)),
  });
  // What NixOS's firewall writes when it refuses the SYNs below (a witness beside the failures).
  const marks = { 6: await markRefusals(t, 6), 4: f.v6Only ? undefined : await markRefusals(t, 4) };
  // The control and the three ways in are independent: tried side by side, recorded in this order.
  // Each way in is witnessed: its SYN seen entering web-arm and not leaving toward the probe ends
  // it; one never seen entering (the internet has no route to the ULA) waits out its own 3 s.
  const refused = { expected: 'a failure', exitZero: false };
  const fromInternet = (command: string) => ({ machine: internetClient, command });
  await recordInOrder([
    t.start('control: web-arm reaches the probe on its ULA', webArm, `curl -6 -sS -m 5 http://[${addr}]:${f.probePort}/`, { expected: 'an answer (the probe is listening)' }),
    startWitnessedDrop(t, "the internet cannot reach the probe's own address", fromInternet(`curl -6 -sS -m 3 http://[${addr}]:${f.probePort}/`), refused, await inboundDrop(t, f.network, addr, f.probePort)),
    startWitnessedDrop(
      t,
      `the internet cannot reach the probe's port via the host GUA`,
      fromInternet(`curl -6 -sS -m 3 http://[${f.gua}]:${f.probePort}/`),
      { expected: 'a failure (nothing published, host firewall drops)', exitZero: false },
      await inboundDrop(t, f.network, f.gua, f.probePort),
    ),
    f.v6Only
      ? // Nothing to try over IPv4: say why with what the host shows, rather than a failure that proves nothing.
        t.start('web-arm has no IPv4 on its uplink (v6-only variant): no IPv4 path to the probe', webArm, `ip -4 -o addr show dev ${f.uplink}`, { expected: 'no IPv4 address', test: (out: string) => out === '' })
      : startWitnessedDrop(t, `the internet cannot reach the probe's port via the host IPv4`, fromInternet(`curl -4 -sS -m 3 http://${f.ipv4}:${f.probePort}/`), refused, await inboundDrop(t, f.network, f.ipv4, f.probePort)),
  ]);
  await witnessRefusal(t, marks[6], f.gua, f.probePort);
  if (marks[4]) await witnessRefusal(t, marks[4], f.ipv4, f.probePort);
  t.summary = `probe ${addr}:${f.probePort} unreachable from the internet (ULA, GUA, IPv4)`;
}

/** The probe's IPv6 address on its network (as podman gave it). */
async function probeIpv6(t: ScenarioRun): Promise<string> {
  const f = facts(t);
  return t.check('the probe has an address on its network', t.lab.webArm, `${f.probeExec} ip -6 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | head -n1`, {
    expected: `an address in ${f.ula}`,
    test: (out) => out !== '' && cidrContains(f.ulaCidr, ipaddr.parse(out)),
  });
}

/** From the internet, the probe's own address and the port it listens on are reachable. */
export async function checkInboundReachability(t: ScenarioRun): Promise<void> {
  const f = facts(t);
  const addr = await probeIpv6(t);
  // On an on-link /64 the router asks for every address by neighbour solicitation.
  await t.lab.internetClient.execute(`ping -6 -c 1 -W 2 ${addr}`);
  const neigh = (await t.lab.upstream.execute(`ip -6 neigh show ${addr}`)).stdout.trim();
  t.observe(
    "the router resolves the probe's address by NDP on web-arm's link",
    'upstream',
    `ip -6 neigh show ${addr}`,
    'an answered entry (REACHABLE/STALE/DELAY/PROBE): something answers neighbour solicitations for it',
    neigh || '(no entry)',
    /REACHABLE|STALE|DELAY|PROBE/.test(neigh),
  );
  await t.check('the internet reaches the probe with ping6', t.lab.internetClient, `ping -6 -c 2 -i 0.2 -W 2 ${addr}`, {
    expected: '2 packets transmitted, 2 received',
    test: (out) => /2 packets transmitted, 2 received/.test(out),
  });
  await t.check(`the internet reaches the probe's port ${f.probePort}`, t.lab.internetClient, `curl -6 -sS -m 4 http://[${addr}]:${f.probePort}/`, {
    expected: `an answer; the probe saw the client ${t.lab.state.config.internet.client.ipv6}`,
    test: (out) => normalizeAddress(out) === normalizeAddress(t.lab.state.config.internet.client.ipv6),
  });
  t.summary = `${addr}:${f.probePort} is reachable from the internet`;
}

/** Whether the design put addresses, routes or neighbour proxies inside the host's /64. */
export async function checkHost64Untouched(t: ScenarioRun): Promise<void> {
  const config = t.lab.state.config;
  const host = normalizeAddress(config.webArm.ipv6.address);
  const [a, l] = ipaddr.parseCIDR(`${config.webArm.ipv6.address}/${config.webArm.ipv6.prefixLength}`);
  const hostNet = cidrOf(a, l);
  const inside = (text: string) => {
    const m = /^([0-9a-f:]+)(\/\d+)?/.exec(text.trim());
    try {
      return Boolean(m && m[1]!.includes(':') && cidrContains(hostNet, ipaddr.parse(m[1]!)));
    } catch {
      return false;
    }
  };
  const addrs = (await t.lab.webArm.succeed(`ip -6 -o addr show scope global | awk '{print $2" "$4}'`)).split('\n').filter(Boolean);
  const extraAddrs = addrs.filter((l) => inside(l.split(' ')[1] ?? '') && normalizeAddress((l.split(' ')[1] ?? '').split('/')[0]!) !== host);
  t.observe(`no address of web-arm's inside ${hostNet.text} but the host's`, 'web-arm', 'ip -6 addr show scope global', `only ${host}`, extraAddrs.length ? extraAddrs.join('; ') : `only ${host}`, extraAddrs.length === 0);
  const routes = (await t.lab.webArm.succeed('ip -6 route show')).split('\n').filter(Boolean);
  const extraRoutes = routes.filter((r) => inside(r) && !r.startsWith(`${hostNet.text} dev ${config.webArm.uplink}`));
  t.observe(`no route inside ${hostNet.text} but the on-link one`, 'web-arm', 'ip -6 route show', `only ${hostNet.text} dev ${config.webArm.uplink}`, extraRoutes.length ? extraRoutes.join('; ') : 'none other', extraRoutes.length === 0);
  const proxies = (await t.lab.webArm.succeed('ip -6 neigh show proxy; sysctl -a 2>/dev/null | grep "proxy_ndp = 1" || true')).split('\n').filter(Boolean);
  t.observe('no neighbour proxy (proxy entries, proxy_ndp)', 'web-arm', 'ip -6 neigh show proxy; sysctl …proxy_ndp', 'none', proxies.length ? proxies.join('; ') : 'none', proxies.length === 0);
  t.summary = `the host ${hostNet.text} holds only ${host}`;
}
