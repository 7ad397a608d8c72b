/**
 * ra-control: why web-arm's static IPv6 setup matters. A second host on the router learns its
 * default route from router advertisements (SLAAC); turning on forwarding, as the NAT66 design
 * does, makes Linux drop RA-learned default routers unless accept_ra=2. web-arm itself (static
 * route, accept_ra=0) keeps its route.
 */
import type { Machine } from '../../lab/scenario/context.ts';
import { LabBrokenError } from '../../lab/errors.ts';
import type { ScenarioRun } from '../../lab/scenario/recorder.ts';
import { waitUntil } from '../../lab/scenario/wait.ts';

const PREFIX = '2001:db8:5aac::/64';

/** How many router advertisements the host's network namespace has received (its own /proc/net/snmp6). */
async function receivedRas(host: Machine): Promise<number> {
  const out = await host.succeed("awk '$1 == \"Icmp6InRouterAdvertisements\" { print $2 }' /proc/net/snmp6");
  const n = Number(out.trim());
  if (!Number.isInteger(n)) throw new LabBrokenError(`Icmp6InRouterAdvertisements not found in /proc/net/snmp6 (saw ${JSON.stringify(out)})`);
  return n;
}

export async function storyRaControl(t: ScenarioRun): Promise<void> {
  const upstream = t.lab.upstream;
  const host = await t.lab.addHostBehindRouter('slaac-host');
  const slaac = host.machine;
  const port = host.routerPort;
  try {
    await slaac.succeed('ip link set lo up; sysctl -q -w net.ipv6.conf.eth0.accept_ra=1 net.ipv6.conf.eth0.autoconf=1 net.ipv6.conf.all.forwarding=0');
    const conf = `interface ${port} { AdvSendAdvert on; MinRtrAdvInterval 3; MaxRtrAdvInterval 4; AdvDefaultLifetime 1800; prefix ${PREFIX} { AdvOnLink on; AdvAutonomous on; }; };`;
    await t.check('the router advertises a prefix and itself as default router on a SLAAC port', upstream, `ip -6 addr add fe80::1/64 dev ${port} nodad 2>/dev/null; printf '%s\\n' '${conf}' > /tmp/radvd-${port}.conf && radvd -C /tmp/radvd-${port}.conf -p /tmp/radvd-${port}.pid -u root`, { expected: 'radvd running' });
    const learned = await waitUntil('an RA-learned default route', async () => {
      const out = await slaac.succeed('ip -6 route show default');
      return out.includes('proto ra') ? out.trim() : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250 });
    t.observe('a SLAAC host learns its default route from RAs (forwarding off)', 'slaac-host', 'ip -6 route show default', 'default via fe80::1 proto ra', learned, learned.includes('fe80::1'));

    const rasBefore = await receivedRas(slaac);
    await slaac.succeed('sysctl -q -w net.ipv6.conf.all.forwarding=1');
    // "Stays gone": not a fixed sleep but until the router has advertised again (every 3–4 s)
    // and the host has received that advertisement with forwarding on.
    const rasAfter = await waitUntil('a router advertisement received with forwarding on', async () => {
      const n = await receivedRas(slaac);
      return n > rasBefore ? n : undefined;
    }, { timeoutMs: 20_000, intervalMs: 100 });
    await t.check('with all.forwarding=1 and accept_ra=1 the RA-learned default route is gone (and stays gone)', slaac, 'ip -6 route show default', {
      expected: `no default route, after a new RA arrived (Icmp6InRouterAdvertisements ${rasBefore} → ${rasAfter})`,
      test: (out) => !out.includes('default'),
    });
    await slaac.succeed('sysctl -q -w net.ipv6.conf.eth0.accept_ra=2');
    const back = await waitUntil('the default route with accept_ra=2', async () => {
      const out = await slaac.succeed('ip -6 route show default');
      return out.includes('proto ra') ? out.trim() : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250 }).catch((e: Error) => `none: ${e.message}`);
    t.observe('with accept_ra=2 the route is learned again despite forwarding', 'slaac-host', 'sysctl net.ipv6.conf.eth0.accept_ra=2; ip -6 route show default', 'default via fe80::1 proto ra', back, back.includes('proto ra'));
    const uplink = t.lab.state.config.webArm.uplink;
    await t.check('web-arm (static, accept_ra=0) keeps its default route with forwarding on', t.lab.webArm, `sysctl -n net.ipv6.conf.all.forwarding net.ipv6.conf.${uplink}.accept_ra; ip -6 route show default`, {
      expected: `forwarding 1, accept_ra 0, default via ${t.lab.state.config.webArm.ipv6.gateway} dev ${uplink} (static)`,
      test: (out) => /^1\n0\n/.test(`${out}\n`) && out.includes(`default via ${t.lab.state.config.webArm.ipv6.gateway} dev ${uplink}`) && !out.includes('proto ra'),
    });
    t.summary = 'forwarding=1 drops an RA-learned default route unless accept_ra=2; static web-arm unaffected';
  } finally {
    await upstream.execute(`[ -f /tmp/radvd-${port}.pid ] && kill $(cat /tmp/radvd-${port}.pid); rm -f /tmp/radvd-${port}.*; ip link del ${port} 2>/dev/null; true`);
    await host.remove();
  }
}
