/**
 * Several of the lab's own reads of a machine in one command: one round trip instead of one per
 * read. On the qemu tier every command is a guest-exec through the agent plus its status polls,
 * under TCG about a second each; reads that always go together (web-arm's addresses, routes and
 * sysctls; its containers and their inspect) go as one. Each part keeps its own exit code and
 * output, so a part that fails is named as if it had run alone. Only for the lab's observations:
 * what the system under test runs (units, `exists || create`) is never batched.
 */
import { randomBytes } from 'node:crypto';
import { CommandError } from '../errors.ts';
import type { ExecuteOptions, Machine } from './machine.ts';

export interface BatchPart {
  command: string;
  exitCode: number;
  stdout: string;
}

/** A marker no command prints by chance (fresh for every batch). */
export function batchMarker(): string {
  return `v6lab-batch-${randomBytes(6).toString('hex')}`;
}

/**
 * Pure: the shell text running each command in a subshell of its own (an `exit` ends only its
 * part), each followed by a line `<marker> <index> <exit code>` on stdout.
 */
export function renderBatch(commands: readonly string[], marker: string): string {
  return commands.map((command, index) => `(\n${command}\n); printf '\\n%s %d %d\\n' ${marker} ${index} $?`).join('\n');
}

/** Pure: the parts of a batch's stdout, in order; undefined when a part's marker is missing (the batch was cut short). */
export function parseBatch(commands: readonly string[], stdout: string, marker: string): BatchPart[] | undefined {
  const parts: BatchPart[] = [];
  let rest = stdout;
  for (const [index, command] of commands.entries()) {
    const line = new RegExp(`\\n${marker} ${index} (\\d+)\\n`).exec(rest);
    if (!line) return undefined;
    parts.push({ command, exitCode: Number(line[1]), stdout: rest.slice(0, line.index) });
    rest = rest.slice(line.index + line[0].length);
  }
  return parts;
}

/**
 * Runs the commands as one on the machine; every part must exit 0 (else a CommandError naming
 * that part, its exit code and the batch's stderr). Returns each part's stdout, in order.
 */
export async function succeedBatch(machine: Pick<Machine, 'execute'>, commands: readonly string[], options: ExecuteOptions = {}): Promise<string[]> {
  const marker = batchMarker();
  const result = await machine.execute(renderBatch(commands, marker), options);
  const parts = parseBatch(commands, result.stdout, marker);
  const failed = parts ? parts.find((p) => p.exitCode !== 0) : undefined;
  if (!parts || failed) {
    throw new CommandError({
      command: failed ? failed.command : `${commands.join('; ')} (batched: cut short, exit ${result.exitCode})`,
      exitCode: failed ? failed.exitCode : result.exitCode,
      signal: result.signal,
      timedOut: false,
      stdout: failed ? failed.stdout : result.stdout,
      stderr: result.stderr,
      durationMs: result.durationMs,
    });
  }
  return parts.map((p) => p.stdout);
}
