/**
 * A mail sent by an application in a container straight to the internet's mail exchanger (no
 * relay through web-arm's postfix), as a container with its own MTA or mail library would: the
 * command runs through the design probe's exec, and the sink's log says which address the
 * message came from and whether that address has forward-confirmed reverse DNS.
 */
import { shellQuote } from '../../shell.ts';
import type { Machine } from '../../nodes/machine.ts';
import type { LabConfig } from '../../topology/config.ts';
import { parentDomain } from '../../topology/plan.ts';
import { mailProbe, mailProbeToken, smtpProbeCommand, type MailProbe, type SinkRecord, type SmtpAddressOrder } from '../../mail/postfix.ts';
import { waitForSinkRecord } from './sinkRecord.ts';

export type { SmtpAddressOrder };

export interface ContainerMailObservation {
  probe: MailProbe;
  order: SmtpAddressOrder;
  /** What web-arm ran (the probe's exec around curl's SMTP client). */
  command: string;
  /** How the send ended: exit code and curl's last words. */
  exitCode: number;
  output: string;
  /** What the sink recorded (undefined: the message never arrived). */
  received?: SinkRecord;
  sinkLine?: string;
}

const DELIVERY_TIMEOUT_MS = 30_000;

/**
 * Sends one probe mail from a container (`exec`: the design probe's exec, e.g. `podman exec
 * v6probe`) as `sender`, picking the MX's address in `order`, and waits until the sink logs it.
 */
export async function sendMailFromContainer(config: LabConfig, webArm: Machine, mx: Machine, exec: string, sender: string, order: SmtpAddressOrder): Promise<ContainerMailObservation> {
  const probe = { ...mailProbe(config, mailProbeToken(`container-${order}`, Date.now(), Math.random()), `postmaster@${parentDomain(config.internet.mx.name)}`), sender };
  const helo = sender.split('@')[1] ?? config.webArm.hostname;
  const command = `${exec} sh -c ${shellQuote(smtpProbeCommand(probe, config.internet.mx.name, helo, order))}`;
  const sent = await webArm.execute(command, { timeoutMs: 120_000 });
  const arrived = sent.exitCode === 0 ? await waitForSinkRecord(mx, probe.token, { timeoutMs: DELIVERY_TIMEOUT_MS, intervalMs: 500 }) : undefined;
  const received = arrived?.record;
  const sinkLine = arrived?.line;
  return {
    probe,
    order,
    command,
    exitCode: sent.exitCode,
    output: `${sent.stdout}\n${sent.stderr}`.trim().split('\n').slice(-2).join(' | '),
    ...(received ? { received } : {}),
    ...(sinkLine ? { sinkLine } : {}),
  };
}
