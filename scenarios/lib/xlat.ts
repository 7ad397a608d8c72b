/**
 * The IPv6-only variant's story for IPv4-only workloads: a container on podman's default
 * (IPv4-only) network reaches an IPv4-only target only if something on web-arm turns its IPv4
 * into IPv6 (a CLAT, 464xlat); the router's NAT64 turns it back. A capture on the router's
 * link to web-arm proves that only IPv6 leaves the host.
 */
import ipaddr from 'ipaddr.js';
import { relative } from 'node:path';
import { stopCapture } from '../../lab/scenario/capture.ts';
import type { ScenarioRun } from '../../lab/scenario/recorder.ts';
import { cidrContains, cidrOf, normalizeAddress } from '../../lab/topology/addresses.ts';
import { dns64Address } from '../../lab/topology/v6only.ts';
import { facts } from './checks.ts';

export async function checkXlatDefaultV4(t: ScenarioRun): Promise<void> {
  const f = facts(t);
  const config = t.lab.state.config;
  const { webArm, upstream, v4OnlyTarget } = t.lab;
  const live = config.webArm.containers[0]!.name;
  const [p, l] = ipaddr.parseCIDR(config.topology.nat64Prefix);
  const nat64 = cidrOf(p, l);
  await t.check("web-arm's uplink has no IPv4 (the v6-only variant)", webArm, `ip -4 -o addr show dev ${f.uplink}; ip -4 route show default`, {
    expected: 'no IPv4 address on the uplink, no IPv4 default route via it',
    test: (out) => !out.includes(`dev ${f.uplink}`) && !out.includes(` ${f.uplink} `),
  });
  await t.check(`the router's DNS64 (${dns64Address(config)}, web-arm's resolver) synthesizes an AAAA for ${f.v4Name}`, webArm, `getent ahostsv6 ${f.v4Name} | awk '{print $1}' | sort -u`, {
    expected: `${f.v4Synthesized} (in ${nat64.text})`,
    test: (out) => out.split('\n').some((a) => a.includes(':') && normalizeAddress(a) === normalizeAddress(f.v4Synthesized)),
  });
  const capture = await t.lab.capture('upstream', t.lab.plan.upstream.toWebArmIf, `${t.attachmentDir}/uplink-${Date.now()}.pcap`, ['ip', 'or', 'ip6']);
  let reached = '';
  try {
    reached = await t.check(`${live} (default network, IPv4 only) reaches ${f.v4Name} over IPv4`, webArm, `podman exec ${live} curl -4 -sS -m 10 http://${f.v4Name}/`, {
      expected: `the target saw ${f.v4Seen} (the router's NAT64)`,
      test: (out) => out === f.v4Seen,
    });
  } finally {
    const rows = await stopCapture(capture);
    const v4 = rows.filter((r) => r.family === 4);
    const toNat64 = rows.filter((r) => r.family === 6 && normalizeAddress(r.src) === f.gua && cidrContains(nat64, ipaddr.parse(r.dst)));
    // Recorded even when the curl failed: what did (not) leave web-arm.
    const evidence = {
      check: `capture on the router's web-arm link: only IPv6 leaves the host`,
      command: `tcpdump -i ${t.lab.plan.upstream.toWebArmIf} ip or ip6 → ${relative(process.cwd(), capture.file)}`,
      expected: `no IPv4 packet; packets ${f.gua} → ${f.v4Synthesized} (NAT64 prefix ${nat64.text})`,
      seen: `${rows.length} packets; ${v4.length} IPv4${v4[0] ? ` (first: ${v4[0].src} → ${v4[0].dst})` : ''}; ${toNat64.length} from ${f.gua} into ${nat64.text}`,
    };
    if (reached || rows.length) {
      t.observe(evidence.check, 'upstream', evidence.command, evidence.expected, evidence.seen, v4.length === 0 && toNat64.length > 0, [capture.file]);
    }
  }
  await t.check(`the v4-only target logged the NAT64's IPv4`, v4OnlyTarget, 'tail -n 100 /var/log/v6lab/seen.log', {
    expected: `a request from ${f.v4Seen}`,
    test: (out) => out.includes(`"client": "${f.v4Seen}"`),
  });
  await t.check(`the trade-off: ${live} still cannot reach the v6-only target`, webArm, `podman exec ${live} curl -6 -sS -m 5 http://[${f.v6Target}]/`, {
    expected: 'a failure (a CLAT gives IPv4 only; the default network has no IPv6)',
    exitZero: false,
  });
  t.summary = `${live} reached ${f.v4Name} over IPv4 through CLAT → NAT64 (target saw ${f.v4Seen}); only IPv6 left web-arm; no IPv6 for it`;
}
