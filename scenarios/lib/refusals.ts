/**
 * Witnesses of nixos-fw's refusals, from what NixOS itself writes: its log-refuse chain LOGs
 * every refused TCP SYN ("refused connection: ", logRefusedConnections, on in nixos-25.11)
 * before dropping it. Where web-arm's kernel log holds those lines (a VM: journalctl -k), the
 * lines naming the refused SYN are the witness, as on a real NixOS host; in a network namespace
 * of this machine the kernel writes no LOG lines (the lab leaves the machine's
 * net.netfilter.nf_log_all_netns alone), so the LOG rule's own packet counter is.
 */
import ipaddr from 'ipaddr.js';
import type { ScenarioRun } from '../../lab/scenario/recorder.ts';
import { pause } from '../../lab/scenario/wait.ts';

export interface RefusalMark {
  family: 4 | 6;
  /** Packets the LOG rule of nixos-fw-log-refuse had counted. */
  logged: number;
  /** web-arm's clock (seconds since the epoch) when the mark was taken. */
  since: number;
}

function tool(family: 4 | 6): string {
  return family === 4 ? 'iptables' : 'ip6tables';
}

/** The packet counter of the LOG rule in nixos-fw-log-refuse (undefined when there is none). */
export function logRuleCount(listing: string): number | undefined {
  const row = listing
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((w) => w[2] === 'LOG');
  return row ? Number(row[0]) : undefined;
}

/** Packets the refusing rules of nixos-fw-log-refuse (jumps to nixos-fw-refuse) counted: every refused packet, logged or not. */
export function refuseRuleCount(listing: string): number {
  return listing
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((w) => w[2] === 'nixos-fw-refuse')
    .reduce((n, w) => n + Number(w[0]), 0);
}

/** What nixos-fw-log-refuse has refused so far (all packets, IPv4 or IPv6). */
export async function refusedSoFar(t: ScenarioRun, family: 4 | 6): Promise<number> {
  return refuseRuleCount(await t.lab.webArm.succeed(`${tool(family)} -w -nvx -L nixos-fw-log-refuse`));
}

/** A kernel LOG line's address: IPv6 as the kernel prints it (%pI6: eight groups of four digits). */
export function kernelLogAddress(address: string): string {
  const parsed = ipaddr.parse(address);
  return parsed.kind() === 'ipv6' ? (parsed as ipaddr.IPv6).parts.map((p) => p.toString(16).padStart(4, '0')).join(':') : parsed.toString();
}

/** The "refused connection: " lines for a destination and port. */
export function refusedLines(log: string, dst: string, dport: number): string[] {
  const dstField = `DST=${kernelLogAddress(dst)} `;
  return log.split('\n').filter((l) => l.includes('refused connection: ') && l.includes(dstField) && l.includes(`DPT=${dport} `) && / SYN /.test(l));
}

export async function markRefusals(t: ScenarioRun, family: 4 | 6): Promise<RefusalMark> {
  const out = await t.lab.webArm.succeed(`${tool(family)} -w -nvx -L nixos-fw-log-refuse; date +%s`);
  const lines = out.trim().split('\n');
  return { family, logged: logRuleCount(out) ?? 0, since: Number(lines.at(-1)) };
}

/**
 * Records what witnesses that nixos-fw refused SYNs to dst:dport since the mark: the kernel's
 * "refused connection: " lines where web-arm's kernel log has them, else the LOG rule's counter.
 */
export async function witnessRefusal(t: ScenarioRun, mark: RefusalMark, dst: string, dport: number): Promise<boolean> {
  const { webArm } = t.lab;
  const listing = `${tool(mark.family)} -w -nvx -L nixos-fw-log-refuse`;
  if (t.lab.capabilities.firewallLogLines) {
    const command = `journalctl -k -o cat --no-pager --since @${mark.since} | grep 'refused connection: '`;
    let seen: string[] = [];
    // journald takes the kernel's lines a moment later.
    for (let i = 0; i < 10 && seen.length === 0; i++) {
      if (i) await pause(300);
      seen = refusedLines((await webArm.execute(command)).stdout, dst, dport);
    }
    return t.record(
      `NixOS's firewall logged the refused SYN to [${dst}]:${dport}`,
      'web-arm',
      command,
      `a "refused connection: … DST=${kernelLogAddress(dst)} … DPT=${dport} … SYN" line (nixos-fw-log-refuse, logRefusedConnections)`,
      seen.length ? `${seen.length} line(s); first: ${seen[0]!.trim()}` : 'no such line',
      seen.length > 0,
    );
  }
  const after = logRuleCount(await webArm.succeed(listing));
  const counted = after === undefined ? undefined : after - mark.logged;
  return t.record(
    `NixOS's firewall refused SYNs (${mark.family === 4 ? 'IPv4' : 'IPv6'}): its LOG rule counted them`,
    'web-arm',
    `${listing} (before and after)`,
    `the LOG rule of nixos-fw-log-refuse ("refused connection: ") counts more packets; its lines go to no kernel log here (a network namespace of this machine)`,
    after === undefined ? 'no LOG rule in nixos-fw-log-refuse (logRefusedConnections is off)' : `${mark.logged} → ${after} packets (+${counted})`,
    counted !== undefined && counted > 0,
  );
}
