/**
 * `pnpm lab help [verb]` (also `pnpm lab --help`, `-h`): the overview, or one verb's usage,
 * options and example. Writes to stdout only.
 */
import { UsageError } from '../errors.ts';
import { renderOverview, renderVerbHelp } from './usage.ts';
import type { Verb } from './verb.ts';

/** The help verb over the registry's verbs (handed in when it runs: help is one of them, and this file does not import the registry back). */
export function helpVerb(verbs: () => Readonly<Record<string, Verb>>): Verb {
  return {
    summary: 'this help; help <verb> (or <verb> --help) for one verb',
    usage: 'pnpm lab help [verb]',
    options: [],
    example: 'pnpm lab help test',
    async run(args) {
      const VERBS = verbs();
      const [name, ...extra] = args.filter((a) => a !== '--help' && a !== '-h');
      if (name === undefined) {
        process.stdout.write(renderOverview(VERBS));
        return 0;
      }
      const verb = VERBS[name];
      if (!verb || extra.length > 0) throw new UsageError(`No verb "${[name, ...extra].join(' ')}". Verbs: ${Object.keys(VERBS).join(', ')}. Fix: pnpm lab help <verb>`);
      process.stdout.write(renderVerbHelp(name, verb));
      return 0;
    },
  };
}
