/**
 * ra-control: why web-arm's static IPv6 setup matters. A second host on the router learns its
 * default route from router advertisements (SLAAC); turning on forwarding, as the NAT66 design
 * does, makes Linux drop RA-learned default routers unless accept_ra=2. web-arm itself (static
 * route, accept_ra=0) keeps its route.
 *
 * Advertisements on demand: the router (radvd) advertises only rarely on its own here
 * (MinRtrAdvInterval 200 s, MaxRtrAdvInterval 600 s), and the story asks for each one it needs:
 * the SLAAC host sends a router solicitation (`rdisc6`, run in the host's network namespace) and
 * radvd answers it at once with a unicast advertisement (radvd 2.19's AdvRASolicitedUnicast,
 * on by default; RFC 7772), which the host's kernel takes like any other. A capture on the
 * router's port records every solicitation and the answer to it.
 */
import { relative } from 'node:path';
import type { Machine } from '../../lab/scenario/context.ts';
import { LabBrokenError } from '../../lab/errors.ts';
import { stopCapture, type RunningCapture } from '../../lab/scenario/capture.ts';
import type { ScenarioRun } from '../../lab/scenario/recorder.ts';
import { waitUntil } from '../../lab/scenario/wait.ts';
import { parseRdisc6, routerDiscoveryExchange } from './routerDiscovery.ts';

const PREFIX = '2001:db8:5aac::/64';
const ROUTER = 'fe80::1';
/** One solicitation, the first advertisement back displayed (rdisc6 retries up to 3 times, 1 s apart). */
const SOLICIT = 'rdisc6 -1 -n eth0';

/** How many router advertisements the host's network namespace has received (its own /proc/net/snmp6). */
async function receivedRas(host: Machine): Promise<number> {
  const out = await host.succeed("awk '$1 == \"Icmp6InRouterAdvertisements\" { print $2 }' /proc/net/snmp6");
  const n = Number(out.trim());
  if (!Number.isInteger(n)) throw new LabBrokenError(`Icmp6InRouterAdvertisements not found in /proc/net/snmp6 (saw ${JSON.stringify(out)})`);
  return n;
}

/** The host solicits; the router's answer must name itself, the prefix and a default-router lifetime. */
async function solicit(t: ScenarioRun, host: Machine, check: string): Promise<void> {
  const result = await host.execute(SOLICIT, { timeoutMs: 10_000 });
  const ra = parseRdisc6(result.stdout);
  const seen = result.exitCode === 0 && ra.from
    ? `answered in ${result.durationMs} ms (rdisc6's whole run) by ${ra.from}: router lifetime ${ra.routerLifetime ?? '?'} s, prefix ${ra.prefixes.join(', ') || 'none'}`
    : `exit ${result.exitCode}: ${(result.stdout || result.stderr).trim().split('\n').at(-1) ?? ''}`;
  t.observe(check, host.name, SOLICIT, `an advertisement from ${ROUTER} with prefix ${PREFIX} and a router lifetime`, seen, result.exitCode === 0 && ra.from === ROUTER && ra.prefixes.includes(PREFIX) && (ra.routerLifetime ?? 0) > 0);
}

async function defaultRouteFromRa(host: Machine, what: string): Promise<string> {
  return waitUntil(what, async () => {
    const out = await host.succeed('ip -6 route show default');
    return out.includes('proto ra') ? out.trim() : undefined;
  }, { timeoutMs: 5_000, intervalMs: 50 });
}

export async function storyRaControl(t: ScenarioRun): Promise<void> {
  const upstream = t.lab.upstream;
  const host = await t.lab.addHostBehindRouter('slaac-host');
  const slaac = host.machine;
  const port = host.routerPort;
  let capture: RunningCapture | undefined;
  try {
    await slaac.succeed('ip link set lo up; sysctl -q -w net.ipv6.conf.eth0.accept_ra=1 net.ipv6.conf.eth0.autoconf=1 net.ipv6.conf.all.forwarding=0');
    const hostLinkLocal = /inet6 (fe80::[0-9a-f:]+)\//.exec(await slaac.succeed('ip -6 -o addr show dev eth0 scope link'))?.[1];
    if (!hostLinkLocal) throw new LabBrokenError("the SLAAC host's eth0 has no link-local address");
    capture = await t.lab.capture('upstream', port, `${t.attachmentDir}/router-discovery-${Date.now()}.pcap`, ['icmp6 and (ip6[40] == 133 or ip6[40] == 134)']);
    const conf = `interface ${port} { AdvSendAdvert on; MinRtrAdvInterval 200; MaxRtrAdvInterval 600; AdvDefaultLifetime 1800; prefix ${PREFIX} { AdvOnLink on; AdvAutonomous on; }; };`;
    await t.check('the router advertises a prefix and itself as default router on a SLAAC port', upstream, `ip -6 addr add ${ROUTER}/64 dev ${port} nodad 2>/dev/null; printf '%s\\n' '${conf}' > /tmp/radvd-${port}.conf && radvd -C /tmp/radvd-${port}.conf -p /tmp/radvd-${port}.pid -u root`, { expected: 'radvd running' });

    await solicit(t, slaac, 'the SLAAC host solicits and the router answers (forwarding off)');
    const learned = await defaultRouteFromRa(slaac, 'an RA-learned default route').catch((e: Error) => `none: ${e.message}`);
    t.observe('a SLAAC host learns its default route from RAs (forwarding off)', 'slaac-host', 'ip -6 route show default', `default via ${ROUTER} proto ra`, learned, learned.includes(`via ${ROUTER}`) && learned.includes('proto ra'));

    const rasBefore = await receivedRas(slaac);
    await slaac.succeed('sysctl -q -w net.ipv6.conf.all.forwarding=1');
    // "Stays gone": not a fixed sleep but until the host has received a new advertisement with
    // forwarding on, the answer to a solicitation of its own.
    await solicit(t, slaac, 'with forwarding on the SLAAC host solicits again and the router answers');
    const rasAfter = await waitUntil('the answer counted by the host\'s kernel', async () => {
      const n = await receivedRas(slaac);
      return n > rasBefore ? n : undefined;
    }, { timeoutMs: 5_000, intervalMs: 50 }).catch(() => rasBefore);
    await t.check('with all.forwarding=1 and accept_ra=1 the RA-learned default route is gone (and stays gone)', slaac, 'ip -6 route show default', {
      expected: `no default route, after a new RA arrived (Icmp6InRouterAdvertisements ${rasBefore} → ${rasAfter})`,
      test: (out) => rasAfter > rasBefore && !out.includes('default'),
    });

    await slaac.succeed('sysctl -q -w net.ipv6.conf.eth0.accept_ra=2');
    await solicit(t, slaac, 'with accept_ra=2 the SLAAC host solicits again and the router answers');
    const back = await defaultRouteFromRa(slaac, 'the default route with accept_ra=2').catch((e: Error) => `none: ${e.message}`);
    t.observe('with accept_ra=2 the route is learned again despite forwarding', 'slaac-host', 'sysctl net.ipv6.conf.eth0.accept_ra=2; rdisc6; ip -6 route show default', `default via ${ROUTER} proto ra`, back, back.includes('proto ra'));

    const pcap = capture.file;
    const rows = await stopCapture(capture);
    capture = undefined;
    const exchange = routerDiscoveryExchange(rows, hostLinkLocal, ROUTER);
    t.observe(
      'every solicitation of the SLAAC host was answered by the router, to the host itself',
      'upstream',
      `tcpdump -i ${port} 'icmp6 and (ip6[40] == 133 or ip6[40] == 134)' → ${relative(process.cwd(), pcap)}`,
      `at least 3 router solicitations from ${hostLinkLocal}, as many router advertisements from ${ROUTER} to ${hostLinkLocal}`,
      `${exchange.solicitations.length} solicitations, ${exchange.answers.length} unicast advertisements to the host, ${exchange.multicast.length} to all nodes (radvd's own)`,
      exchange.solicitations.length >= 3 && exchange.answers.length >= exchange.solicitations.length,
      [pcap],
    );

    const uplink = t.lab.state.config.webArm.uplink;
    await t.check('web-arm (static, accept_ra=0) keeps its default route with forwarding on', t.lab.webArm, `sysctl -n net.ipv6.conf.all.forwarding net.ipv6.conf.${uplink}.accept_ra; ip -6 route show default`, {
      expected: `forwarding 1, accept_ra 0, default via ${t.lab.state.config.webArm.ipv6.gateway} dev ${uplink} (static)`,
      test: (out) => /^1\n0\n/.test(`${out}\n`) && out.includes(`default via ${t.lab.state.config.webArm.ipv6.gateway} dev ${uplink}`) && !out.includes('proto ra'),
    });
    t.summary = 'forwarding=1 drops an RA-learned default route unless accept_ra=2 (RAs solicited by the SLAAC host, answered at once); static web-arm unaffected';
  } finally {
    if (capture) await stopCapture(capture).catch(() => undefined);
    await upstream.execute(`[ -f /tmp/radvd-${port}.pid ] && kill $(cat /tmp/radvd-${port}.pid); rm -f /tmp/radvd-${port}.*; ip link del ${port} 2>/dev/null; true`);
    await host.remove();
  }
}
