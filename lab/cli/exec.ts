import { UsageError } from '../errors.ts';
import { formatArgv } from '../exec.ts';
import { openLab } from '../scenario/context.ts';
import { parseCommon } from './options.ts';
import type { Verb } from './verb.ts';
import { OPT } from './usage.ts';

export const execVerb: Verb = {
  summary: 'run a command on a node: lab exec <node> -- <cmd>',
  usage: 'pnpm lab exec <node> [--name NAME] -- <command …>',
  options: [OPT.name, ['-- <command …>', 'the command: one argument is a shell line, several an argv'], OPT.verbose],
  example: 'pnpm lab exec web-arm -- ip -6 route',
  async run(args) {
    const options = parseCommon(args);
    const node = options.positionals[0];
    if (!node || options.rest.length === 0) throw new UsageError(`usage: ${execVerb.usage}`);
    const machine = openLab(options.config.lab.name).machine(node);
    // One argument is a shell command line; several are an argv, quoted as such.
    const command = options.rest.length === 1 ? options.rest[0]! : formatArgv(options.rest);
    const result = await machine.execute(command, { timeoutMs: 10 * 60_000 });
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    return result.exitCode;
  },
};
