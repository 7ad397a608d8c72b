/**
 * inbound-portfwd: a published port answers over IPv6 from the internet at [host GUA]:port,
 * DNAT'ed to the container's ULA (the container sees the client's own address), a port the
 * container listens on without publishing does not answer, and stopping the container removes
 * the forwarding: nothing answers and no rule for the port is left in iptables, ip6tables or
 * nftables. The design's probe when it publishes a port (Docker); otherwise a container of the
 * story's own on the design's podman network (netavark forwards published ports over IPv6 too).
 */
import type { ScenarioRun } from '../../lab/scenario/recorder.ts';
import { normalizeAddress } from '../../lab/topology/addresses.ts';
import { recordInOrder } from '../../lab/scenario/recorder.ts';
import { checkWitnessedDrop, startWitnessedDrop } from '../../lab/scenario/witness.ts';
import { facts } from './checks.ts';
import { inboundDrop } from './dropWitness.ts';
import { waitForEgress } from './faults.ts';

/** The story's own publishing container on a podman design network. */
const SIDECAR = 'v6lab-pfwd';
const SIDECAR_PORTS = { hostPort: 8443, containerPort: 8080, unpublishedPort: 9090 };

interface Publisher {
  what: string;
  exec: string;
  ports: { hostPort: number; containerPort: number; unpublishedPort: number };
  stop(): Promise<void>;
  restore(): Promise<void>;
}

async function publisher(t: ScenarioRun): Promise<Publisher> {
  const f = facts(t);
  const published = t.lab.design.probe.published;
  if (published) {
    return {
      what: `the design's probe ${f.probe}`,
      exec: f.probeExec,
      ports: published,
      stop: async () => t.lab.stopUnit(f.probeUnit),
      restore: async () => {
        await t.lab.startUnit(f.probeUnit);
        await waitForEgress(t, 'the probe is back and egresses again', 120_000);
      },
    };
  }
  const image = t.lab.state.image?.tag ?? '';
  const p = SIDECAR_PORTS;
  const run = `podman run -d --rm --name ${SIDECAR} --network ${f.network} -p ${p.hostPort}:${p.containerPort}/tcp ${image} /usr/local/bin/v6lab-responder --name ${SIDECAR} --http ${p.containerPort} --http ${p.unpublishedPort}`;
  await t.lab.webArm.execute(`podman rm -f --ignore ${SIDECAR}`);
  await t.check(`a container on ${f.network} publishes ${p.hostPort}→${p.containerPort}/tcp`, t.lab.webArm, run, { expected: 'started' });
  return {
    what: `a container of the story's own on ${f.network}`,
    exec: `podman exec ${SIDECAR}`,
    ports: p,
    stop: async () => {
      await t.lab.webArm.execute(`podman stop -t 2 ${SIDECAR}; podman rm -f --ignore ${SIDECAR}`, { timeoutMs: 60_000 });
    },
    restore: async () => {},
  };
}

/** Lines of every firewall ruleset that mention the port as a destination. */
async function rulesForPort(t: ScenarioRun, port: number): Promise<string[]> {
  const out = (await t.lab.webArm.execute(`{ iptables-save; ip6tables-save; nft list ruleset; } 2>/dev/null | grep -E -- "dport ${port}\\b|dports? .*\\b${port}\\b|:${port}\\b" || true`)).stdout;
  return out.split('\n').map((l) => l.trim()).filter(Boolean);
}

export async function storyInboundPortfwd(t: ScenarioRun): Promise<void> {
  const f = facts(t);
  const client = t.lab.state.config.internet.client;
  const pub = await publisher(t);
  const { hostPort, unpublishedPort } = pub.ports;
  try {
    // A container just started may not listen yet: wait up to 10 s for both ports.
    const listening = `for i in $(seq 1 50); do [ $(ss -ltn | grep -c -E ":(${pub.ports.containerPort}|${unpublishedPort}) ") -ge 2 ] && break; sleep 0.2; done; ss -ltn | grep -c -E ":(${pub.ports.containerPort}|${unpublishedPort}) "`;
    await t.check(`control: ${pub.what} listens on ${pub.ports.containerPort} and ${unpublishedPort}`, t.lab.webArm, `${pub.exec} sh -c '${listening}'`, { expected: 'two listening sockets', test: (out) => Number(out) >= 2 });
    // Independent probes from the internet, side by side, recorded in this order. The negative one
    // is witnessed: its SYN seen entering web-arm and not leaving toward the container ends it.
    const closed = await inboundDrop(t, f.network, f.gua, unpublishedPort);
    await recordInOrder([
      t.start(`the internet reaches [${f.gua}]:${hostPort} over IPv6`, t.lab.internetClient, `curl -6 -sS -m 5 http://[${f.gua}]:${hostPort}/`, {
        expected: `an answer from the container, which saw the client's own address ${client.ipv6}`,
        test: (out) => normalizeAddress(out) === normalizeAddress(client.ipv6),
      }),
      // The IPv6-only variant: web-arm has no IPv4 to publish on, so there is no IPv4 control.
      ...(f.v6Only ? [] : [t.start(`control: ${f.ipv4}:${hostPort} answers over IPv4 too`, t.lab.internetClient, `curl -4 -sS -m 5 http://${f.ipv4}:${hostPort}/`, { expected: 'an answer' })]),
      startWitnessedDrop(t, `the unpublished port ${unpublishedPort} does not answer at the host GUA`, { machine: t.lab.internetClient, command: `curl -6 -sS -m 3 http://[${f.gua}]:${unpublishedPort}/` }, { expected: 'a failure', exitZero: false }, closed),
    ]);
    const rules = await rulesForPort(t, hostPort);
    t.observe(`the forwarding is a rule for ${hostPort}`, 'web-arm', 'iptables-save; ip6tables-save; nft list ruleset', `DNAT rules for ${hostPort}`, rules.slice(0, 3).join(' | ') || 'none', rules.length > 0);
  } finally {
    await pub.stop();
  }
  await checkWitnessedDrop(
    t,
    `with ${pub.what} stopped, [${f.gua}]:${hostPort} does not answer`,
    { machine: t.lab.internetClient, command: `curl -6 -sS -m 3 http://[${f.gua}]:${hostPort}/` },
    { expected: 'a failure', exitZero: false },
    await inboundDrop(t, f.network, f.gua, hostPort, [hostPort, pub.ports.containerPort]),
  );
  const left = await rulesForPort(t, hostPort);
  t.observe(`no rule for ${hostPort} is left behind`, 'web-arm', 'iptables-save; ip6tables-save; nft list ruleset', 'none', left.slice(0, 3).join(' | ') || 'none', left.length === 0);
  await pub.restore();
  t.summary = `[${f.gua}]:${hostPort} → ${pub.what} over IPv6 (client address kept); ${unpublishedPort} closed; gone with the container`;
}
