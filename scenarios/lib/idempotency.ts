/**
 * The properties the idempotency stories read before a redeploy or a reboot and again after it
 * (lab/scenario/beforeAfter.ts compares them): the probe's IPv6 and IPv4 egress, each live
 * container's isolation (networks, no IPv6, the v6-only target out of reach, IPv4 egress, its
 * published ports from the internet), web-arm's own uplink state, the design network's identity,
 * the firewall rules and the containers running. Each is read the same way both times; a
 * failing probe is a value like any other ("fails (exit 28)"), so the verdict says whether the
 * redeploy or reboot changed anything, not whether the design passes its other stories.
 */
import {
  compareReadings,
  describeComparison,
  outcomeLine,
  rulesByName,
  summarizeComparisons,
  withoutEmptyChains,
  withoutIptablesNftTables,
  type PropertyReading,
} from '../../lab/scenario/beforeAfter.ts';
import type { ScenarioRun } from '../../lab/scenario/recorder.ts';
import { shellQuote } from '../../lab/scenario/shell.ts';
import { takeHostSnapshot } from '../../lab/scenario/observe/hostSnapshot.ts';
import { inspectAllContainers } from '../../lab/scenario/observe/workloadSnapshot.ts';
import { facts, firewallRules, networkCli, networkIdentity, networkKeepsIdAcrossDaemonStart } from './checks.ts';

export type Moment = 'redeploy' | 'reboot';

type Reader = () => Promise<PropertyReading>;

async function outcome(machine: Pick<ScenarioRun['lab']['internetClient'], 'execute'>, label: string, command: string): Promise<string> {
  return outcomeLine(label, await machine.execute(command, { timeoutMs: 30_000 }));
}

/** The readers of every property, for this design and moment (each reads one property when called). */
function readers(t: ScenarioRun, moment: Moment): Reader[] {
  const f = facts(t);
  const config = t.lab.state.config;
  const { webArm, internetClient } = t.lab;
  const cli = networkCli(t);
  const hostAddress = f.v6Only ? f.gua : f.ipv4;
  const v6Egress = `${f.probeExec} curl -6 -sS -m 5 http://${f.v6Name}/`;
  const v4Egress = `${f.probeExec} curl ${f.v6Only ? '-6' : '-4'} -sS -m 5 http://${f.v4Name}/`;
  const reading = (property: string, node: string, command: string, lines: string[]): PropertyReading => ({ property, node, command, lines });
  // Every container's inspect, read once per reading and shared (isolation, the rules by name).
  let inspecting: ReturnType<typeof inspectAllContainers> | undefined;
  const inspected = () => (inspecting ??= inspectAllContainers(webArm));
  return [
    async () => reading(`IPv6 egress of the probe to ${f.v6Name}`, webArm.name, v6Egress, [await outcome(webArm, 'the target saw', v6Egress)]),
    async () => reading(`IPv4 egress of the probe to ${f.v4Name}`, webArm.name, v4Egress, [await outcome(webArm, 'the target saw', v4Egress)]),
    ...config.webArm.containers.map((c) => async () => {
      // One exec per container (each podman call costs seconds under TCG): its global IPv6
      // addresses, the v6-only target, the v4-only target, as exit codes and what it printed.
      const inside = [
        'echo "v6addrs=$(ip -6 -o addr show scope global | wc -l)"',
        `curl -6 -sS -m 3 -o /dev/null http://[${f.v6Target}]/ 2>/dev/null; echo "v6target=$?"`,
        `seen=$(curl -4 -sS -m 5 http://${f.v4Name}/ 2>/dev/null); echo "v4target=$? $seen"`,
      ].join('; ');
      const command = `podman exec ${c.name} sh -c ${shellQuote(inside)}`;
      const info = (await inspected()).find((x) => x.Name.replace(/^\//, '') === c.name);
      const result = await webArm.execute(command, { timeoutMs: 30_000 });
      const field = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(result.stdout)?.[1]?.trim() ?? '';
      const [v4Exit = '', ...v4Seen] = field('v4target').split(' ');
      const ports = await Promise.all(
        c.publish.map((p) =>
          outcome(
            internetClient,
            `published ${p.hostPort}/${p.protocol} from the internet`,
            p.protocol === 'tcp' ? `nc -w 3 ${hostAddress} ${p.hostPort} </dev/null` : `echo ping | nc -u -W 1 -w 2 ${hostAddress} ${p.hostPort}`,
          ),
        ),
      );
      return reading(`isolation of ${c.name}`, webArm.name, `podman inspect ${c.name} (networks); ${command}`, [
        `networks: ${info ? Object.keys(info.NetworkSettings?.Networks ?? {}).sort().join(' ') : '(not running)'}`,
        result.exitCode === 0 ? `global IPv6 addresses: ${field('v6addrs')}` : `podman exec fails (exit ${result.exitCode})`,
        `the v6-only target: ${field('v6target') === '0' ? 'ok' : `fails (exit ${field('v6target')})`}`,
        `the v4-only target saw: ${v4Exit === '0' ? `ok, ${v4Seen.join(' ')}` : `fails (exit ${v4Exit})`}`,
        // Which published port answers, not what it printed (a stand-in's line names its client's port).
        ...ports.map((p) => p.replace(/: ok, .*$/, ': answers')),
      ]);
    }),
    async () => {
      const snap = await takeHostSnapshot(webArm, f.uplink, moment);
      return reading("web-arm's uplink: addresses, routes, RA and forwarding sysctls", webArm.name, `ip addr/route show dev ${f.uplink}; sysctl accept_ra, forwarding, proxy_ndp`, [
        ...snap.addresses.map((a) => `address ${a}`),
        ...snap.routes.map((r) => `route ${r}`),
        ...Object.entries(snap.sysctls).map(([k, v]) => `${k} = ${v}`),
      ]);
    },
    async () => {
      // A redeploy starts no daemon: every network keeps its ID. A reboot starts dockerd again,
      // which recreates its predefined bridge network with a new ID on every Docker host.
      const keepsId = moment === 'redeploy' || networkKeepsIdAcrossDaemonStart(cli, f.network);
      const property = keepsId
        ? `the ${f.network} network's ID and subnets`
        : `the ${f.network} network's subnets (dockerd recreates its predefined bridge network at every start, so its ID is new after any reboot by design: not compared)`;
      return reading(property, webArm.name, `${cli} network inspect ${f.network}`, [await networkIdentity(t, { id: keepsId })]);
    },
    async () => {
      const identities = (await inspected()).map((c) => ({
        name: c.Name.replace(/^\//, ''),
        id: c.Id,
        addresses: Object.values(c.NetworkSettings?.Networks ?? {}).flatMap((n) => [n.IPAddress ?? '', n.GlobalIPv6Address ?? '']),
      }));
      return reading('firewall rules (container IDs and addresses by name, empty chains left out)', webArm.name, 'iptables-save; ip6tables-save; nft -s list ruleset', rulesByName(withoutEmptyChains(withoutIptablesNftTables(await firewallRules(webArm))), identities));
    },
    async () => {
      // A redeploy restarts nothing (same ID, same start); a reboot starts them anew, so there the
      // same containers run on the same networks.
      const podman = moment === 'redeploy' ? "podman ps --no-trunc --format '{{.Names}} {{.ID}} {{.StartedAt}} {{.Networks}}'" : "podman ps --format '{{.Names}} {{.Networks}}'";
      const docker =
        moment === 'redeploy'
          ? "docker ps -q --no-trunc | xargs -r docker inspect --format 'docker {{.Name}} {{.Id}} {{.State.StartedAt}}'"
          : "docker ps --format 'docker {{.Names}} {{.Networks}}'";
      const command = cli === 'docker' ? `${podman}; ${docker}` : podman;
      const lines = (await webArm.succeed(command, { timeoutMs: 60_000 })).split('\n').map((l) => l.trim()).filter(Boolean);
      return reading(moment === 'redeploy' ? 'running containers (ID and start time)' : 'running containers and their networks', webArm.name, command, lines);
    },
  ];
}

/** Reads every property once: side by side where web-arm answers several commands at once. */
export async function readProperties(t: ScenarioRun, moment: Moment): Promise<PropertyReading[]> {
  const all = readers(t, moment);
  if (t.lab.capabilities.concurrentCommands) return Promise.all(all.map((read) => read()));
  const out: PropertyReading[] = [];
  for (const read of all) out.push(await read());
  return out;
}

/**
 * One piece of evidence per property (before → after), then the verdict: nothing changed.
 * Every property is recorded before the verdict is decided, so a change in one does not hide
 * the others.
 */
export function observeUnchanged(t: ScenarioRun, moment: Moment, before: PropertyReading[], after: PropertyReading[]): void {
  const comparisons = compareReadings(before, after);
  for (const c of comparisons) {
    const { expected, seen } = describeComparison(c);
    t.record(`${c.property}: as before the ${moment}`, c.node, c.command, expected, seen, c.same);
  }
  const summary = summarizeComparisons(moment, comparisons);
  t.observe(`nothing the ${moment} could change did change`, 'lab', `${comparisons.length} properties read before and after the ${moment}`, 'every property as before', summary.seen, summary.ok);
}
