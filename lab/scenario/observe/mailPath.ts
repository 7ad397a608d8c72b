/**
 * The mail path, live: web-arm's postfix sends a probe message to the internet's mail
 * exchanger, and the sink's log says which address the message came from. Taken before the
 * change (at `lab up`) and by the mail-path scenario after it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Machine } from '../../nodes/machine.ts';
import { snapshotDir } from './hostSnapshot.ts';
import type { LabConfig } from '../../topology/config.ts';
import { mailProbe, mailProbeToken, sendmailProbeCommand, type MailProbe, type SinkRecord } from '../../mail/postfix.ts';
import { waitForSinkRecord } from './sinkRecord.ts';

export interface MailPathObservation {
  label: string;
  takenAt: string;
  probe: MailProbe;
  /** The command web-arm ran to send it. */
  command: string;
  /** What the sink recorded (undefined: the message never arrived). */
  received?: SinkRecord;
  /** postfix's log lines about the message (its delivery: relay, address, status). */
  postfixLog: string;
  /** The sink's log line, as written. */
  sinkLine?: string;
  /**
   * Only when the message never arrived: postfix's state at that moment (its units, its queue,
   * what master, pickup and postdrop logged this boot), so a miss says where the message stopped.
   */
  postfixState?: string;
}

const DELIVERY_TIMEOUT_MS = 90_000;

/** Sends one probe message from web-arm and waits until the sink logs it (flushing postfix's queue meanwhile). */
export async function observeMailPath(config: LabConfig, webArm: Machine, mx: Machine, label: string): Promise<MailPathObservation> {
  const probe = mailProbe(config, mailProbeToken(label, Date.now(), Math.random()));
  const command = sendmailProbeCommand(probe);
  await webArm.succeed(command, { timeoutMs: 60_000 });
  const arrived = await waitForSinkRecord(mx, probe.token, {
    timeoutMs: DELIVERY_TIMEOUT_MS,
    intervalMs: 3_000,
    // A deferred message waits minutes for its next try: ask postfix to try now.
    meanwhile: () => webArm.execute('postqueue -f'),
  });
  const received = arrived?.record;
  const sinkLine = arrived?.line;
  const postfixLog = (await webArm.execute(`journalctl -b --no-pager -o cat -t postfix/smtp -t postfix/qmgr -n 20 | tail -n 6`)).stdout.trim();
  const postfixState = received ? undefined : (await webArm.execute(POSTFIX_STATE_COMMAND, { timeoutMs: 60_000 })).stdout.trim();
  return {
    label,
    takenAt: new Date().toISOString(),
    probe,
    command,
    ...(received ? { received } : {}),
    postfixLog,
    ...(sinkLine ? { sinkLine } : {}),
    ...(postfixState !== undefined ? { postfixState } : {}),
  };
}

/** Where a message that never arrived stopped: postfix's units, its queue, and what its pickup side logged this boot. */
export const POSTFIX_STATE_COMMAND = [
  "echo \"units: $(systemctl is-active postfix.service postfix@-.service | tr '\\n' ' ')\"",
  "echo \"queue: $(postqueue -p 2>&1 | tail -n 1)\"",
  "echo \"maildrop: $(find /var/spool/postfix/maildrop -type f 2>/dev/null | wc -l) file(s)\"",
  'journalctl -b --no-pager -o cat -t postfix/master -t postfix/pickup -t postfix/postdrop -t postfix/postfix-script -n 6',
].join('; ');

export function saveMailObservation(stateDir: string, observation: MailPathObservation): void {
  mkdirSync(snapshotDir(stateDir), { recursive: true });
  writeFileSync(join(snapshotDir(stateDir), `mail-${observation.label}.json`), `${JSON.stringify(observation, null, 2)}\n`);
}

export function loadMailObservation(stateDir: string, label: string): MailPathObservation | undefined {
  const file = join(snapshotDir(stateDir), `mail-${label}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as MailPathObservation) : undefined;
}
