/**
 * docker-coexistence: dockerd beside podman, as on production. dockerd enables IPv4
 * forwarding and sets the iptables FORWARD policy to DROP; netavark's iptables driver puts its
 * accepts in that same chain, its nftables driver in a table of its own, where an accept does
 * not override a drop in another table (podman issue 24486). The story probes the probe's
 * IPv4 and IPv6 egress, the default-network containers' egress and published ports: as
 * brought up, after `systemctl restart docker.service`, after a real reboot. When something
 * breaks, the evidence names the rule that drops (with its counters) and the design option that
 * fixes it is applied, proven by the same probes, and taken back.
 */
import { rebootWebArm } from '../../lab/lifecycle/reboot.ts';
import { silentProgress } from '../../lab/progress.ts';
import type { ScenarioRun } from '../../lab/scenario/recorder.ts';
import { normalizeAddress } from '../../lab/topology/addresses.ts';
import { waitUntil } from '../../lab/wait.ts';
import { facts } from './checks.ts';
import { applyVariant, restoreConfig } from './faults.ts';

interface Probe {
  check: string;
  node: 'web-arm' | 'internet-client';
  command: string;
  expected: string;
  test: (stdout: string) => boolean;
}

function probes(t: ScenarioRun): Probe[] {
  const f = facts(t);
  const config = t.lab.state.config;
  const list: Probe[] = [
    { check: `the probe reaches ${f.v4Name} over IPv4`, node: 'web-arm', command: `${f.probeExec} curl -4 -sS -m 6 http://${f.v4Name}/`, expected: `the target saw ${f.ipv4}`, test: (out) => out === f.ipv4 },
    { check: `the probe reaches ${f.v6Name} over IPv6`, node: 'web-arm', command: `${f.probeExec} curl -6 -sS -m 6 http://${f.v6Name}/`, expected: `the target saw ${f.egress}`, test: (out) => normalizeAddress(out) === f.egress },
  ];
  for (const c of config.webArm.containers) {
    list.push({ check: `${c.name} (default network) reaches ${f.v4Name}`, node: 'web-arm', command: `podman exec ${c.name} curl -4 -sS -m 6 http://${f.v4Target}/`, expected: `the target saw ${f.ipv4}`, test: (out) => out === f.ipv4 });
    const tcp = c.publish.find((p) => p.protocol === 'tcp');
    if (tcp) {
      list.push({ check: `${c.name}'s published ${tcp.hostPort}/tcp answers from the internet`, node: 'internet-client', command: `nc -w 4 ${f.ipv4} ${tcp.hostPort} </dev/null`, expected: `"${c.name} ${tcp.containerPort} …"`, test: (out) => out.startsWith(`${c.name} ${tcp.containerPort} `) });
    }
  }
  return list;
}

/** Runs every probe, records each without stopping at the first failure; returns how many failed. */
async function probeAll(t: ScenarioRun, when: string): Promise<number> {
  let failed = 0;
  for (const p of probes(t)) {
    const machine = p.node === 'web-arm' ? t.lab.webArm : t.lab.internetClient;
    const r = await machine.execute(p.command, { timeoutMs: 30_000 });
    const out = r.stdout.trim();
    const ok = r.exitCode === 0 && p.test(out);
    if (!ok) failed++;
    t.record(`${when}: ${p.check}`, p.node, p.command, p.expected, `exit ${r.exitCode}: ${(out || r.stderr.trim()).split('\n')[0]}`, ok);
  }
  return failed;
}

/** The FORWARD chain of iptables' filter table (dockerd's), with policy and counters. */
async function forwardChain(t: ScenarioRun): Promise<string> {
  return (await t.lab.webArm.execute('iptables -w -L FORWARD -v -n -x --line-numbers')).stdout.trim();
}

/** The drop that a failure ran into: the chain's policy line with its packet counter. */
export function policyDrop(chain: string): { policy: string; packets: number } | undefined {
  const m = /^Chain FORWARD \(policy (DROP|ACCEPT) (\d+) packets, (\d+) bytes\)/m.exec(chain);
  return m && m[1] === 'DROP' ? { policy: m[0], packets: Number(m[2]) } : undefined;
}

async function recordDropEvidence(t: ScenarioRun, when: string): Promise<void> {
  const chain = await forwardChain(t);
  const drop = policyDrop(chain);
  const nft = (await t.lab.webArm.execute('nft list chain inet netavark forward 2>/dev/null | head -n 20')).stdout.trim();
  t.record(
    `${when}: the packets die in dockerd's iptables FORWARD policy DROP, not in netavark's accepts`,
    'web-arm',
    'iptables -L FORWARD -v -n -x; nft list chain inet netavark forward',
    'the rule that drops them, with counters',
    `${drop ? `${drop.policy} (table ip filter, set by dockerd)` : 'no policy DROP'}; netavark: ${nft ? `table inet netavark accepts them first (${nft.split('\n').length} lines)` : 'rules in the iptables FORWARD chain (NETAVARK_FORWARD)'}`,
    false,
  );
}

async function dockerFacts(t: ScenarioRun): Promise<void> {
  const config = t.lab.state.config;
  await t.check('dockerd runs beside podman', t.lab.webArm, 'systemctl is-active docker.service && docker info --format "{{.ServerVersion}}"', {
    expected: 'active and a server version',
    test: (out) => out.startsWith('active'),
  });
  await t.check(`netavark's firewall driver is ${config.webArm.podman.firewallDriver}`, t.lab.webArm, 'cat /etc/containers/containers.conf.d/60-v6lab-firewall-driver.conf | grep firewall_driver', {
    expected: `firewall_driver = "${config.webArm.podman.firewallDriver}"`,
    test: (out) => out.includes(`"${config.webArm.podman.firewallDriver}"`),
  });
  const chain = await forwardChain(t);
  const forwarding = (await t.lab.webArm.execute('sysctl -n net.ipv4.ip_forward')).stdout.trim();
  // dockerd sets DROP only when it finds IPv4 forwarding off and turns it on itself: which of
  // dockerd and netavark came first this boot decides it.
  t.record(
    "iptables' FORWARD policy as dockerd left it",
    'web-arm',
    'iptables -L FORWARD; sysctl net.ipv4.ip_forward',
    'DROP when dockerd turned IPv4 forwarding on itself, ACCEPT when it found it on',
    `${chain.split('\n')[0] ?? ''}; ip_forward=${forwarding}`,
    forwarding === '1',
  );
}

async function waitForDockerd(t: ScenarioRun): Promise<void> {
  await waitUntil('dockerd and the containers after the restart', async () => {
    const r = await t.lab.webArm.execute('systemctl is-active -q docker.service && [ -z "$(systemctl list-jobs --no-legend)" ] && echo settled');
    return r.stdout.includes('settled') ? true : undefined;
  }, { timeoutMs: 180_000, intervalMs: 1000 });
}

export async function storyDockerCoexistence(t: ScenarioRun): Promise<void> {
  const design = t.lab.design;
  await dockerFacts(t);
  let failures = await probeAll(t, 'as brought up');
  if (failures) await recordDropEvidence(t, 'as brought up');

  await t.check('restart docker.service', t.lab.webArm, 'systemctl restart docker.service', { expected: 'exit 0' });
  await waitForDockerd(t);
  const afterRestart = await probeAll(t, 'after docker.service restarted');
  if (afterRestart) await recordDropEvidence(t, 'after docker.service restarted');
  failures += afterRestart;

  const reboot = await rebootWebArm(t.lab.plan.name, silentProgress);
  t.record('web-arm rebooted (real)', 'lab', 'lab reboot', 'multi-user.target again', `${Math.round(reboot.durationMs / 1000)} s, ${reboot.realism}`, true);
  const afterReboot = await probeAll(t, 'after a reboot');
  if (afterReboot) await recordDropEvidence(t, 'after a reboot');
  failures += afterReboot;

  const fixable = design.design === 'v6egress' && design.params.acceptPodmanInDockerUser !== true;
  if (failures && fixable) {
    // The design's option: DOCKER-USER accepts for podman's bridges, re-ensured with dockerd.
    await applyVariant(t, (c) => {
      c.design.params = { ...c.design.params, acceptPodmanInDockerUser: true };
    });
    const rules = (await t.lab.webArm.execute('iptables -w -S DOCKER-USER')).stdout.trim();
    t.record('fix: v6egress acceptPodmanInDockerUser=true puts accepts for podman+ in DOCKER-USER', 'web-arm', 'iptables -S DOCKER-USER', '-i podman+ -j ACCEPT and -o podman+ … RELATED,ESTABLISHED,DNAT', rules.replace(/\n/g, '; '), rules.includes('-i podman+ -j ACCEPT'));
    const fixed = await probeAll(t, 'with the fix');
    await t.check('with the fix: restart docker.service', t.lab.webArm, 'systemctl restart docker.service', { expected: 'exit 0' });
    await waitForDockerd(t);
    const fixedAfterRestart = await probeAll(t, 'with the fix, after docker.service restarted');
    t.record('the fix holds (the same probes pass, also after a docker restart)', 'web-arm', 'all probes again', '0 failures', `${fixed + fixedAfterRestart} failures`, fixed + fixedAfterRestart === 0);
    await restoreConfig(t);
  }
  t.summary = failures
    ? `${failures} probe(s) failed with dockerd beside podman (${t.lab.state.config.webArm.podman.firewallDriver} driver)${fixable ? '; acceptPodmanInDockerUser=true fixes it (proven)' : ''}`
    : `podman's containers work beside dockerd (${t.lab.state.config.webArm.podman.firewallDriver} driver): as brought up, after a docker restart, after a reboot`;
}
