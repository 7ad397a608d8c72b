/**
 * `pnpm lab help [verb]` (also `pnpm lab --help`, `-h`): the overview, or one verb's usage,
 * options and example. Writes to stdout only.
 */
import { UsageError } from '../errors.ts';
import { renderOverview, renderVerbHelp } from './usage.ts';
import type { Verb } from './verbs.ts';

export const helpVerb: Verb = {
  summary: 'this help; help <verb> (or <verb> --help) for one verb',
  usage: 'pnpm lab help [verb]',
  options: [],
  example: 'pnpm lab help test',
  async run(args) {
    const { VERBS } = await import('./verbs.ts');
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
