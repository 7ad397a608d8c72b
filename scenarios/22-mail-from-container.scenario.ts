// The ADR's mail caveat: a container that sends mail itself (its own MTA or mail library, not
// relayed through web-arm's postfix) leaves over the design's network. Its IPv6 source on
// v6egress is the host GUA (NAT66), which has no reverse DNS (no PTR: no forward-confirmed
// rDNS, no SPF-able name) — the deliverability problem web-arm's postfix avoids by sending over
// IPv4 (smtp_address_preference = ipv4), whose rDNS the provider serves. Two mail clients in
// the design's probe send to the dual-stack MX: one that takes the MX's addresses in the order
// the system resolver gives (getaddrinfo, RFC 6724: from a ULA source IPv4 ranks above a
// global IPv6 destination), and one that prefers IPv6 as many MTAs do (IPv4 only when IPv6
// cannot connect). The sink checks forward-confirmed reverse DNS (FCrDNS) of every client with
// the lab's DNS, as a receiving MTA does. The verdict: both arrive with FCrDNS. Where web-arm
// runs postfix, its own mail is checked the same way; the netns tier has none (mail-path is
// skipped there, as declared).
import { scenario } from '../lab/scenario/define.ts';
import type { ContainerMailObservation, SmtpAddressOrder } from '../lab/scenario/observe/mailFromContainer.ts';
import type { MailPathObservation } from '../lab/scenario/observe/mailPath.ts';
import type { ScenarioRun } from '../lab/scenario/recorder.ts';
import { facts } from './lib/checks.ts';

function arrival(o: ContainerMailObservation | MailPathObservation): string {
  const r = o.received;
  if (!r) return 'never arrived';
  return `over IPv${r.family} from ${r.client}; reverse DNS: ${r.reverse ? r.reverse.why : 'not checked by the sink'}`;
}

const CLIENT: Record<SmtpAddressOrder, string> = {
  resolver: "a mail client taking the MX's addresses in the resolver's order (getaddrinfo)",
  'ipv6-first': 'a mail client preferring IPv6 (IPv4 only when IPv6 cannot connect), as many MTAs do',
};

/** One container mail: sent and logged, from the design's egress, with FCrDNS (recorded, so both clients are shown). */
async function containerMail(t: ScenarioRun, order: SmtpAddressOrder): Promise<{ sent: ContainerMailObservation; fcrdns: boolean }> {
  const f = facts(t);
  const config = t.lab.state.config;
  const mx = config.internet.mx.name;
  const sent = await t.lab.sendMailFromContainer(f.probeExec, `app@${f.probe}.${config.webArm.hostname}`, order);
  t.observe(
    `${CLIENT[order]} in the probe sends a mail straight to ${mx} (curl's SMTP client, no relay)`,
    'web-arm',
    sent.command,
    `exit 0 and the sink logs the message "${sent.probe.subject}"`,
    sent.exitCode === 0 ? (sent.received ? `sent; ${sent.sinkLine ?? ''}` : 'sent, but the sink never logged it') : `exit ${sent.exitCode}: ${sent.output}`,
    sent.exitCode === 0 && Boolean(sent.received),
  );
  const received = sent.received!;
  // The mail leaves the way the design's egress does: over IPv6 from its egress source (the host
  // GUA on NAT66 designs, the container's own GUA on routed ones), or over IPv4 as web-arm's.
  const ways = [`${f.egress} (IPv6, ${f.egressLabel})`, ...(f.v6Only ? [] : [`${f.v4Seen} (IPv4)`])];
  t.record(
    `${order}: the mail left the way the design's egress does, as ${mx} saw it`,
    'mx',
    `the sink's log line of ${sent.probe.token}`,
    `from ${ways.join(' or ')}`,
    arrival(sent),
    received.client === f.egress || (!f.v6Only && received.client === f.v4Seen),
  );
  const fcrdns = t.record(
    `${order}: the MX finds forward-confirmed reverse DNS for the container's mail`,
    'mx',
    `PTR of ${received.client}, then its name's ${received.family === 6 ? 'AAAA' : 'A'} (asked of the lab's DNS)`,
    `a PTR name resolving back to ${received.client} (as web-arm's IPv4 has: ${config.webArm.ipv4.reverseName})`,
    received.reverse ? received.reverse.why : 'the sink did not check (no DNS given)',
    received.reverse?.fcrdns === true,
  );
  return { sent, fcrdns };
}

scenario('mail-from-container', async (t) => {
  const config = t.lab.state.config;
  const resolver = await containerMail(t, 'resolver');
  const ipv6First = await containerMail(t, 'ipv6-first');

  // The host half: web-arm's own postfix, where the tier runs one.
  let host = 'web-arm has no postfix on this tier (mail-path is skipped there)';
  if (t.lab.capabilities.postfix) {
    const own = await t.lab.observeMailPath('mail-from-container');
    const ownOk = own.received?.family === 4 && own.received.client === config.webArm.ipv4.address && own.received.reverse?.fcrdns === true;
    t.record(
      "web-arm's own postfix: over IPv4, with forward-confirmed reverse DNS",
      'mx',
      own.command,
      `from ${config.webArm.ipv4.address} (IPv4), PTR ${config.webArm.ipv4.reverseName} resolving back to it`,
      arrival(own),
      ownOk,
    );
    host = ownOk ? `web-arm's postfix: IPv4 with FCrDNS` : `web-arm's postfix: ${arrival(own)}`;
  }
  const caveat = resolver.fcrdns && ipv6First.fcrdns ? '' : 'caveat: ';
  t.summary = `${caveat}resolver order ${arrival(resolver.sent)}; IPv6 first ${arrival(ipv6First.sent)}; ${host}`;
});
