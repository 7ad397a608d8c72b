import { createInterface } from 'node:readline';
import { UsageError } from '../errors.ts';
import type { Machine } from '../nodes/machine.ts';
import { runInteractive } from '../exec.ts';
import { openLab } from '../scenario/context.ts';
import { hasShell } from '../nodes/machine.ts';
import { parseCommon } from './options.ts';
import type { Verb } from './verb.ts';
import { OPT } from './usage.ts';

/**
 * A QEMU guest has no login and no terminal channel (only its agent): each line runs as one
 * command (`sh -c`, in /root), its output printed when it ends. No job control, no TTY.
 */
async function lineShell(machine: Machine, prompt: string): Promise<number> {
  process.stderr.write(`line shell on ${machine.name} through its guest agent: each line runs on its own, output when it ends (exit or Ctrl-D to leave)\n`);
  const rl = createInterface({ input: process.stdin, output: process.stderr, prompt });
  rl.prompt();
  let last = 0;
  for await (const line of rl) {
    const command = line.trim();
    if (command === 'exit' || command === 'logout') break;
    if (command) {
      const result = await machine.execute(`cd /root 2>/dev/null; ${command}`, { timeoutMs: 10 * 60_000 });
      process.stdout.write(result.stdout);
      process.stderr.write(result.stderr);
      last = result.exitCode;
    }
    rl.prompt();
  }
  rl.close();
  return last;
}

export const shellVerb: Verb = {
  summary: 'an interactive shell inside a node (its namespaces; bash when there, else sh)',
  usage: 'pnpm lab shell <node> [--name NAME]',
  options: [OPT.name],
  example: 'pnpm lab shell web-arm',
  async run(args) {
    const options = parseCommon(args);
    const [node, ...extra] = options.positionals;
    if (!node || extra.length > 0 || options.rest.length > 0) {
      throw new UsageError(`usage: ${shellVerb.usage} (to run one command: pnpm lab exec <node> -- <command>)`);
    }
    const lab = options.config.lab.name;
    const machine = openLab(lab).machine(node);
    // A machine without an interactive way in (a guest reached through its agent): one command per line.
    if (!hasShell(machine)) return lineShell(machine, `[${lab}:${node}] # `);
    process.stderr.write(`shell on ${node} in lab "${lab}" (exit or Ctrl-D to leave)\n`);
    return runInteractive(machine.shellArgv({ PS1: `[${lab}:${node}] \\w \\$ ` }));
  },
};
