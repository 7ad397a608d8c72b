/**
 * Links and kernel config of the upstream router and the internet segment.
 *
 * The router behaves like Hetzner's: fe80::1 on web-arm's link, web-arm's /64 is on-link
 * (resolved by neighbour discovery per address; no route via web-arm), frames whose source
 * MAC is not web-arm's are dropped, IPv4 gateway 172.31.1.1 on-link, no NAT.
 */
import ipaddr from 'ipaddr.js';
import { LabBrokenError } from '../errors.ts';
import { nsenterArgv, succeed } from '../exec.ts';
import { cidrOf } from '../topology/addresses.ts';
import { ipIn, netnsPath, sysctlIn } from '../links/netns.ts';
import { createVeth } from '../links/veth.ts';
import { planLinks, type InternetHostPlan, type LabPlan, type VethPlan } from '../topology/plan.ts';

const NO_DAD = {
  'net.ipv6.conf.all.accept_dad': 0,
  'net.ipv6.conf.default.accept_dad': 0,
};

function linkOf(plan: LabPlan, id: string): VethPlan {
  const link = planLinks(plan).find((l) => l.id === id);
  if (!link) throw new LabBrokenError(`no link ${id} in the plan`);
  return link;
}

function mark(plan: LabPlan): string {
  return `v6lab:${plan.name}`;
}

/** The router's base config: forwarding on, the internet bridge with its addresses. */
export async function configureUpstream(plan: LabPlan): Promise<void> {
  const ns = plan.upstream.netnsName;
  await sysctlIn(ns, {
    ...NO_DAD,
    'net.ipv6.conf.all.forwarding': 1,
    'net.ipv4.ip_forward': 1,
    'net.ipv6.conf.all.accept_ra': 0,
    'net.ipv6.conf.default.accept_ra': 0,
  });
  await succeed(ipIn(ns, 'link', 'set', 'dev', 'lo', 'up'));
  await succeed(ipIn(ns, 'link', 'add', plan.upstream.bridge, 'type', 'bridge'));
  await succeed(ipIn(ns, 'link', 'set', 'dev', plan.upstream.bridge, 'up'));
  await succeed(ipIn(ns, 'addr', 'add', plan.config.upstream.internetIpv6, 'dev', plan.upstream.bridge, 'nodad'));
  await succeed(ipIn(ns, 'addr', 'add', plan.config.upstream.internetIpv4, 'dev', plan.upstream.bridge));
}

/** One internet host: a veth from its eth0 to the router's bridge, addresses, default routes. */
export async function wireInternetHost(plan: LabPlan, host: InternetHostPlan): Promise<void> {
  const upstream = plan.upstream.netnsName;
  await sysctlIn(host.netnsName, {
    ...NO_DAD,
    ...(host.ipv6 ? {} : { 'net.ipv6.conf.all.disable_ipv6': 1, 'net.ipv6.conf.default.disable_ipv6': 1 }),
  });
  const link = linkOf(plan, `internet-${host.node}`);
  await createVeth(link.a, link.b, mark(plan));
  await succeed(ipIn(upstream, 'link', 'set', 'dev', host.peerIfname, 'master', plan.upstream.bridge));
  await succeed(ipIn(host.netnsName, 'link', 'set', 'dev', 'lo', 'up'));
  const u = plan.config.upstream;
  if (host.ipv6) {
    await succeed(ipIn(host.netnsName, '-6', 'addr', 'add', `${host.ipv6}/${u.internetIpv6.split('/')[1]}`, 'dev', host.ifname, 'nodad'));
    await succeed(ipIn(host.netnsName, '-6', 'route', 'add', 'default', 'via', u.internetIpv6.split('/')[0]!, 'dev', host.ifname));
  }
  if (host.ipv4) {
    await succeed(ipIn(host.netnsName, '-4', 'addr', 'add', `${host.ipv4}/${u.internetIpv4.split('/')[1]}`, 'dev', host.ifname));
    await succeed(ipIn(host.netnsName, '-4', 'route', 'add', 'default', 'via', u.internetIpv4.split('/')[0]!, 'dev', host.ifname));
  }
}

/**
 * web-arm's uplink on the netns tier: a veth from web-arm's enp1s0 to the router's "web-arm"
 * port, and the router's side of it. Run at every (emulated) boot: the link dies with its namespace.
 */
export async function wireWebArmUplink(plan: LabPlan): Promise<void> {
  const link = linkOf(plan, 'web-arm-uplink');
  await createVeth(link.a, link.b, mark(plan));
  await configureRouterPort(plan);
}

/**
 * The router's port to web-arm (a veth end on the netns tier, the guest's tap on the qemu
 * tier): fe80::1 and 172.31.1.1 on it, web-arm's /64 on-link (neighbour discovery per
 * address), web-arm's IPv4 /32, and Hetzner's filter of foreign source MACs.
 */
export async function configureRouterPort(plan: LabPlan): Promise<void> {
  const upstream = plan.upstream.netnsName;
  const port = plan.upstream.toWebArmIf;
  const w = plan.config.webArm;
  const u = plan.config.upstream;
  await succeed(ipIn(upstream, '-6', 'addr', 'flush', 'dev', port, 'scope', 'link'));
  await succeed(ipIn(upstream, '-6', 'addr', 'add', `${u.linkLocal}/64`, 'dev', port, 'nodad'));
  const ipv4 = plan.config.topology.ipv4;
  // The IPv6-only variant: no IPv4 on web-arm's link at all.
  if (ipv4) await succeed(ipIn(upstream, '-4', 'addr', 'replace', `${u.ipv4Gateway}/32`, 'dev', port));
  // On-link: the whole /64 is resolved on the port by neighbour discovery, address by address.
  await succeed(ipIn(upstream, '-6', 'route', 'replace', cidrOf(ipaddr.parse(w.ipv6.address), w.ipv6.prefixLength).text, 'dev', port));
  if (ipv4) await succeed(ipIn(upstream, '-4', 'route', 'replace', `${w.ipv4.address}/32`, 'dev', port));
  // Hetzner drops frames from any MAC but the server's own.
  const rules = [
    'table netdev v6lab_upstream {',
    `  chain from_web_arm {`,
    `    type filter hook ingress device "${port}" priority 0; policy accept;`,
    `    ether saddr != ${w.mac} counter drop comment "only web-arm's MAC"`,
    '  }',
    '}',
  ].join('\n');
  await succeed(nsenterArgv({ net: netnsPath(upstream) }, ['sh', '-c', 'nft delete table netdev v6lab_upstream 2>/dev/null; true']));
  await succeed(nsenterArgv({ net: netnsPath(upstream) }, ['nft', '-f', '-']), { input: rules });
}
