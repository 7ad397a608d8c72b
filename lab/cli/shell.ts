import { UsageError } from '../errors.ts';
import { runInteractive } from '../exec.ts';
import { openLab } from '../lifecycle/context.ts';
import { parseCommon } from './options.ts';
import type { Verb } from './verbs.ts';

export const shellVerb: Verb = {
  summary: 'an interactive shell inside a node (its namespaces; bash when there, else sh)',
  usage: 'pnpm lab shell <node> [--name NAME]',
  async run(args) {
    const options = parseCommon(args);
    const [node, ...extra] = options.positionals;
    if (!node || extra.length > 0 || options.rest.length > 0) {
      throw new UsageError(`usage: ${shellVerb.usage} (to run one command: pnpm lab exec <node> -- <command>)`);
    }
    const lab = options.config.lab.name;
    const machine = openLab(lab).machine(node);
    process.stderr.write(`shell on ${node} in lab "${lab}" (exit or Ctrl-D to leave)\n`);
    return runInteractive(machine.shellArgv({ PS1: `[${lab}:${node}] \\w \\$ ` }));
  },
};
