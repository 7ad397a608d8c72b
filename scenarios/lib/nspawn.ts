/**
 * Stories of the systemd-nspawn designs: nspawn's port forwards live in the io.systemd.nat
 * table, whose DNAT runs before the host firewall (the write-up's gotcha); a delegated prefix
 * on Hetzner's on-link /64 works only while the uplink answers neighbour solicitations for
 * the container's address (IPv6ProxyNDP).
 */
import type { ScenarioRun } from '../../lab/scenario/recorder.ts';
import { normalizeAddress } from '../../lab/topology/addresses.ts';
import { checkWitnessedDrop } from '../../lab/scenario/witness.ts';
import { facts } from './checks.ts';
import { unansweredByHost, unreturned } from './dropWitness.ts';

export function isNspawnDesign(name: string): boolean {
  return name.startsWith('nspawn-');
}

export async function checkPortForwardBypassesFirewall(t: ScenarioRun): Promise<void> {
  const f = facts(t);
  const config = t.lab.state.config;
  const params = t.lab.design.params as { hostPort: number; probePort: number };
  const { webArm, internetClient } = t.lab;
  const client6 = normalizeAddress(config.internet.client.ipv6);
  await t.check(`the host firewall does not open ${params.hostPort}/tcp`, webArm, `iptables -S nixos-fw; ip6tables -S nixos-fw`, {
    expected: `no rule accepting --dport ${params.hostPort}`,
    test: (out) => out.includes('-A nixos-fw') && !out.includes(`--dport ${params.hostPort} `),
  });
  // Control: a listener on the host itself, on another port the firewall does not open, is dropped.
  const control = params.hostPort + 101;
  await webArm.execute(`podman rm -f --ignore v6lab-fw-control >/dev/null; podman run -d --rm --network=host --name v6lab-fw-control ${t.lab.state.image?.tag ?? ''} /usr/local/bin/v6lab-responder --name fw-control --http ${control}`, { timeoutMs: 120_000 });
  try {
    await t.check(`control: a host listener on ${control}/tcp answers on web-arm itself`, webArm, `for i in $(seq 20); do curl -6 -sS -m 2 http://[::1]:${control}/ && exit 0; sleep 0.5; done; exit 1`, {
      expected: 'an answer (::1)',
      test: (out) => normalizeAddress(out.split('\n').at(-1) ?? '') === '::1',
    });
    await checkWitnessedDrop(t, `control: the firewall drops ${control}/tcp from the internet`, { machine: internetClient, command: `curl -6 -sS -m 3 http://[${f.gua}]:${control}/` }, {
      expected: 'a failure (nixos-fw refuses it)',
      exitZero: false,
    }, unansweredByHost(t, f.gua, control));
  } finally {
    await webArm.execute('podman rm -f --ignore v6lab-fw-control', { timeoutMs: 60_000 });
  }
  const tables = await t.check('nspawn installed the forward in the io.systemd.nat table, ahead of the firewall', webArm, 'nft list table ip io.systemd.nat; nft list table ip6 io.systemd.nat', {
    expected: `a dnat for port ${params.hostPort} (its map or a dport match) in a prerouting chain at priority dstnat + 1 (-99)`,
    test: (out) => new RegExp(`(dport|tcp \\.) ${params.hostPort}\\b`).test(out) && /dnat/.test(out) && /priority dstnat \+ 1|priority -99/.test(out),
  });
  const v6Forwarded = tables.includes('table ip6') && /ip6[\s\S]*dnat/.test(tables.slice(tables.indexOf('table ip6')));
  const answered: string[] = [];
  const attempts: Array<[string, string, string]> = [[`[${f.gua}]`, '-6', client6]];
  if (!f.v6Only) attempts.push([f.ipv4, '-4', config.internet.client.ipv4]);
  for (const [host, family, client] of attempts) {
    const r = await internetClient.execute(`curl ${family} -sS -m 4 http://${host}:${params.hostPort}/`, { timeoutMs: 30_000 });
    const seen = r.stdout.trim();
    t.evidence.push({
      check: `from the internet, ${host}:${params.hostPort} (forwarded to the container's ${params.probePort})`,
      node: 'internet-client',
      command: `curl ${family} -sS -m 4 http://${host}:${params.hostPort}/`,
      expected: `the container answers (it saw ${client}) although the host firewall drops the port`,
      seen: `exit ${r.exitCode}${seen ? `: ${seen}` : r.stderr.trim() ? `: ${r.stderr.trim().split('\n')[0]}` : ''}`,
      ok: r.exitCode === 0,
      realism: 'real',
    });
    if (r.exitCode === 0) answered.push(`${host} (IPv${family.slice(1)})`);
  }
  t.observe(
    'the forwarded port answers where the host firewall would drop it',
    'internet-client',
    'the attempts above',
    'at least one family answers through io.systemd.nat',
    answered.length ? `answered on ${answered.join(', ')}${v6Forwarded ? '' : ' (no ip6 dnat rule)'}` : 'no answer',
    answered.length > 0,
  );
  t.summary = `port ${params.hostPort} (firewall: closed) reaches the container via io.systemd.nat on ${answered.join(', ')}`;
}

export async function checkDelegatedNeedsProxyNdp(t: ScenarioRun): Promise<void> {
  const f = facts(t);
  const { webArm, upstream } = t.lab;
  const address = normalizeAddress(t.lab.design.probe.ipv6 ?? '');
  const curl = `${f.probeExec} curl -6 -sS -m 5 http://${f.v6Name}/`;
  await t.check(`networkd answers for ${address} on ${f.uplink} (IPv6ProxyNDP)`, webArm, `sysctl -n net.ipv6.conf.${f.uplink}.proxy_ndp; ip -6 neigh show proxy dev ${f.uplink}`, {
    expected: `proxy_ndp 1 and a proxy entry for ${address}`,
    test: (out) => out.startsWith('1') && out.split('\n').some((l) => l.startsWith(`${address} `) || l.trim() === address || l.includes(`${address} proxy`)),
  });
  await t.check('with it, the container egresses with its own GUA', webArm, curl, {
    expected: address,
    test: (out) => normalizeAddress(out) === address,
  });
  await webArm.succeed(`ip -6 neigh del proxy ${address} dev ${f.uplink}`);
  await upstream.execute(`ip -6 neigh flush to ${address}`);
  try {
    // Witnessed: the container's first packet seen leaving web-arm and nothing coming back to it ends curl.
    await checkWitnessedDrop(t, 'without the proxy entry, return traffic never arrives', { machine: webArm, exec: f.probeExec, command: `curl -6 -sS -m 5 http://${f.v6Name}/` }, {
      expected: 'a failure (the router asks for the address by NDP and nobody answers)',
      exitZero: false,
    }, unreturned(t, address));
    await t.check("the router's neighbour entry for the container stays unresolved", upstream, `ip -6 neigh show ${address}`, {
      expected: 'FAILED or INCOMPLETE (or no entry)',
      test: (out) => out === '' || /FAILED|INCOMPLETE/.test(out),
    });
  } finally {
    await webArm.execute(`networkctl reconfigure ${f.uplink}; for i in $(seq 30); do ip -6 neigh show proxy dev ${f.uplink} | grep -q '${address}' && break; sleep 1; done`, { timeoutMs: 60_000 });
  }
  await t.check('networkd restores the entry (networkctl reconfigure); egress works again', webArm, `for i in $(seq 10); do out=$(${curl}) && echo "$out" && exit 0; sleep 2; done; exit 1`, {
    expected: address,
    test: (out) => normalizeAddress(out) === address,
  });
  t.summary = `${address}: egress only while ${f.uplink} proxies NDP for it (removed: no return traffic; restored: works)`;
}
