/**
 * web-arm's postfix as production runs it, and the mail probe of the mail path: the main.cf
 * settings, the shell command that sends a probe through postfix's `sendmail`, and the parser
 * of the SMTP sink's log on mx (lab/images/node/v6lab-responder --smtp). Pure: no I/O.
 *
 * The settings are rendered as `name = value` lines, each one a complete main.cf line and
 * each one a valid `postconf -e` argument: they are applied on top of the distribution's
 * main.cf with `postconfEditArgv(renderPostfixMainCf(config))`, which leaves every other
 * parameter (queue and daemon directories, master.cf services, aliases) as the package set it.
 */
import { shellQuote } from '../shell.ts';
import ipaddr from 'ipaddr.js';
import { ConfigError } from '../errors.ts';
import type { LabConfig } from '../topology/config.ts';

export type MailConfig = Pick<LabConfig, 'webArm' | 'internet'>;

/**
 * The main.cf lines web-arm runs with, in this order: its hostname, both address families
 * (inet_protocols) but IPv4 preferred for outbound SMTP when a host has both (production's
 * `smtp_address_preference = ipv4`), local delivery for localhost only, direct delivery by MX
 * (no relayhost), no TLS (the lab's sink offers none), and postfix 3.6 defaults.
 */
export function renderPostfixMainCf(config: Pick<LabConfig, 'webArm'>): string[] {
  return [
    `myhostname = ${config.webArm.hostname}`,
    'inet_protocols = all',
    'smtp_address_preference = ipv4',
    'mydestination = localhost',
    'relayhost =',
    'smtp_tls_security_level = none',
    'compatibility_level = 3.6',
  ];
}

/** The argv that writes the settings into main.cf (`postconf -e 'name = value' …`). */
export function postconfEditArgv(lines: readonly string[]): string[] {
  return ['postconf', '-e', ...lines];
}

/** The main.cf lines as a file fragment (one line each, newline-terminated). */
export function postfixMainCfText(lines: readonly string[]): string {
  return lines.map((l) => `${l}\n`).join('');
}

export interface MailProbe {
  /** The envelope sender and From: root@<webArm.hostname>. */
  sender: string;
  /** The envelope recipient and To:, by default probe@<internet.mx.name>. */
  recipient: string;
  /** The unique token; the Subject is `v6lab mail probe <token>`. */
  token: string;
  subject: string;
}

const TOKEN = /^[A-Za-z0-9._-]{1,64}$/;
const ADDRESS = /^[A-Za-z0-9._+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*$/;

/**
 * The probe mail that web-arm sends with a given token. The recipient defaults to
 * probe@mx.example (postfix finds no MX for it and uses mx.example's A and AAAA); pass
 * `probe@example` to go through the MX record of the domain instead.
 */
export function mailProbe(config: MailConfig, token: string, recipient = `probe@${config.internet.mx.name}`): MailProbe {
  if (!TOKEN.test(token)) {
    throw new ConfigError('token', token, 'must be 1–64 letters, digits, dots, dashes or underscores', 'use mailProbeToken() or a plain word');
  }
  if (!ADDRESS.test(recipient)) {
    throw new ConfigError('recipient', recipient, 'not a plain mail address', `use e.g. probe@${config.internet.mx.name}`);
  }
  return { sender: `root@${config.webArm.hostname}`, recipient, token, subject: `v6lab mail probe ${token}` };
}

/** A token for one probe: the label, the time in base 36 and a random part. */
export function mailProbeToken(label: string, now: number, random: number): string {
  const word = label.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 24) || 'probe';
  return `${word}-${now.toString(36)}-${Math.floor(random * 36 ** 6).toString(36).padStart(6, '0')}`;
}

/**
 * The shell command (for `machine.succeed`) that hands the probe to postfix's sendmail:
 * `printf '%s\n' 'Subject: …' … | /usr/sbin/sendmail -f <sender> <recipient>`. It returns
 * once postfix has queued the message; delivery to mx follows asynchronously.
 */
export function sendmailProbeCommand(probe: MailProbe): string {
  const message = [
    `Subject: ${probe.subject}`,
    `From: ${probe.sender}`,
    `To: ${probe.recipient}`,
    `X-V6lab-Token: ${probe.token}`,
    '',
    `v6lab mail probe ${probe.token}: web-arm to the mail exchanger.`,
  ];
  return `printf '%s\\n' ${message.map(shellQuote).join(' ')} | /usr/sbin/sendmail -f ${shellQuote(probe.sender)} ${shellQuote(probe.recipient)}`;
}

/**
 * How a container's mail client picks the MX's address: in the order the system's resolver
 * gives (getaddrinfo, RFC 6724: a ULA source ranks IPv4 above a global IPv6 destination), or
 * IPv6 first and IPv4 only when IPv6 cannot connect, as an MTA that prefers IPv6 does.
 */
export type SmtpAddressOrder = 'resolver' | 'ipv6-first';

/**
 * The same probe sent straight to the mail exchanger by an application in a container, as a
 * container's own MTA or mail library would (no relay through web-arm's postfix): curl's SMTP
 * client, in the address order given. Run inside the container.
 */
export function smtpProbeCommand(probe: MailProbe, mx: string, helo: string, order: SmtpAddressOrder = 'resolver'): string {
  const message = [`Subject: ${probe.subject}`, `From: ${probe.sender}`, `To: ${probe.recipient}`, `X-V6lab-Token: ${probe.token}`, '', `v6lab mail probe ${probe.token}: a container to the mail exchanger.`];
  const printf = `printf '%s\\r\\n' ${message.map(shellQuote).join(' ')}`;
  const curl = (family: string) =>
    `curl ${family}-sS -m 40 --connect-timeout 20 --url ${shellQuote(`smtp://${mx}/${helo}`)} --mail-from ${shellQuote(probe.sender)} --mail-rcpt ${shellQuote(probe.recipient)} -T -`;
  return order === 'resolver' ? `${printf} | ${curl('')}` : `{ ${printf} | ${curl('-6 ')}; } || { ${printf} | ${curl('-4 ')}; }`;
}


/** One message the SMTP sink accepted, as logged in /var/log/v6lab/seen.log. */
export interface SinkRecord {
  time: number;
  port: number;
  /** The client address the sink saw (IPv4-mapped addresses already unmapped). */
  client: string;
  family: 4 | 6;
  helo?: string;
  from: string;
  to: string[];
  subject: string;
  /** What the sink found of the client's reverse DNS (absent: the sink was not asked to check). */
  reverse?: SinkReverseDns;
}

/** The client's reverse DNS as the sink checked it with the lab's DNS. */
export interface SinkReverseDns {
  /** Its PTR name, if it has one. */
  name?: string;
  /** Forward-confirmed: the PTR name resolves back to the client. */
  fcrdns: boolean;
  /** In words: "PTR web-arm.example, which resolves back to 203.0.113.10", "no PTR for …". */
  why: string;
}

/** Every smtp record of a seen.log text; other protocols' lines and non-JSON lines are skipped. */
export function parseSinkLog(text: string): SinkRecord[] {
  const records: SinkRecord[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{')) continue;
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(trimmed) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (raw['proto'] !== 'smtp' || typeof raw['client'] !== 'string') continue;
    const client = unmapped(raw['client']);
    if (!ipaddr.isValid(client)) continue;
    records.push({
      time: Number(raw['time'] ?? 0),
      port: Number(raw['port'] ?? 0),
      client,
      family: ipaddr.parse(client).kind() === 'ipv6' ? 6 : 4,
      ...(typeof raw['helo'] === 'string' ? { helo: raw['helo'] } : {}),
      from: String(raw['from'] ?? ''),
      to: Array.isArray(raw['to']) ? raw['to'].map(String) : typeof raw['to'] === 'string' ? [raw['to']] : [],
      subject: String(raw['subject'] ?? ''),
      ...(typeof raw['fcrdns'] === 'boolean'
        ? { reverse: { ...(typeof raw['rdns'] === 'string' ? { name: raw['rdns'] } : {}), fcrdns: raw['fcrdns'], why: String(raw['rdnsWhy'] ?? '') } }
        : {}),
    });
  }
  return records;
}

/** The last record whose subject carries the token as a whole word, if the sink logged one. */
export function findSinkRecord(text: string, token: string): SinkRecord | undefined {
  const matches = parseSinkLog(text).filter((r) => r.subject.split(/\s+/).includes(token));
  return matches.at(-1);
}

function unmapped(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && ipaddr.IPv4.isValid(address.slice(7)) ? address.slice(7) : address;
}
