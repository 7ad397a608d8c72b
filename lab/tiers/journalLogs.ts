/**
 * web-arm's logs where it runs a real systemd (the qemu tier's guests, the vagrant VM): web-arm
 * itself is its journal of this boot, a unit is that unit's journal lines, a container is
 * `podman logs` — all read through the machine (the guest agent or `vagrant ssh`), which returns
 * a command's output when it ends, so these logs are read, not followed.
 */
import { shellQuote } from '../shell.ts';
import { commandChunks, type LogChunk } from '../engine/logStream.ts';
import type { Machine } from '../nodes/machine.ts';
import type { WebArmLog, WebArmLogs } from './tier.ts';

const WHY_NO_FOLLOW =
  "a guest's journal and containers are read through the machine (its agent returns a command's output when it ends). Read the log without --follow (--tail N for the last lines).";

/** The command that prints a journal (web-arm's whole boot, or one unit's) or a container's log. */
export function journalCommand(source: { unit?: string; container?: string }, tail: number | undefined): string {
  const n = tail !== undefined ? String(tail) : undefined;
  if (source.container !== undefined) return `podman logs${n ? ` --tail ${n}` : ''} ${shellQuote(source.container)}`;
  return `journalctl -b --no-pager -o short-iso${source.unit ? ` -u ${shellQuote(source.unit)}` : ''}${n ? ` -n ${n}` : ''}`;
}

function machineLog(machine: Machine, description: string, source: { unit?: string; container?: string }): WebArmLog {
  return {
    description,
    whyNoFollow: WHY_NO_FOLLOW,
    async read(tail): Promise<LogChunk[]> {
      const result = await machine.execute(journalCommand(source, tail), { timeoutMs: 60_000 });
      return commandChunks(result);
    },
  };
}

async function containerNames(machine: Machine): Promise<string[]> {
  return (await machine.succeed("podman ps -a --format '{{.Names}}'")).split('\n').filter(Boolean).sort();
}

async function serviceUnits(machine: Machine): Promise<string[]> {
  return (await machine.succeed('systemctl list-units --all --plain --no-legend --type=service'))
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0]!)
    .filter(Boolean);
}

export function journalLogs(machine: Machine): WebArmLogs {
  return {
    async find(target) {
      if (target === machine.name) return machineLog(machine, `${machine.name}'s journal of this boot (read in the guest)`, {});
      if ((await containerNames(machine)).includes(target)) return machineLog(machine, `podman logs ${target} (inside the ${machine.name} guest)`, { container: target });
      const unit = (await serviceUnits(machine)).find((u) => u === target || u === `${target}.service`);
      if (unit) return machineLog(machine, `${machine.name}'s journal of this boot for ${unit} (read in the guest)`, { unit });
      return undefined;
    },
    async known() {
      return [machine.name, ...(await containerNames(machine)).map((c) => `${c} (web-arm container)`), 'any web-arm unit'];
    },
  };
}
