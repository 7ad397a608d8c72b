import { runCompare } from '../compare/compare.ts';
import { renderMatrixJson, renderMatrixTable } from '../compare/matrix.ts';
import { UsageError } from '../errors.ts';
import { createProgress } from '../progress.ts';
import { parseCommon } from './options.ts';
import type { Verb } from './verbs.ts';

export const compareVerb: Verb = {
  summary: 'run several designs, each on its own lab, and print the design × scenario matrix',
  usage: 'pnpm lab compare <design>[@v6only] <design>[@v6only] … [--only id,id] [--parallel N] [--set path=value …] [--json]',
  async run(args) {
    const options = parseCommon(args, { only: { type: 'string' }, parallel: { type: 'string' } });
    const designs = options.positionals;
    const parallel = typeof options.flags.parallel === 'string' ? Number(options.flags.parallel) : undefined;
    if (parallel !== undefined && (!Number.isInteger(parallel) || parallel < 1)) throw new UsageError('--parallel takes a whole number ≥ 1');
    const sets = ((options.flags.set as string[] | undefined) ?? []).filter((s) => !s.startsWith('design.') && !s.startsWith('lab.name='));
    const { matrix, outputDir } = await runCompare(designs, {
      only: typeof options.flags.only === 'string' ? options.flags.only.split(',') : undefined,
      parallel,
      sets,
      progress: createProgress(),
    });
    process.stdout.write(options.json ? renderMatrixJson(matrix) : `\n${renderMatrixTable(matrix)}Markdown and JSON: ${outputDir}/matrix.{md,json}\n`);
    return matrix.unexpected ? 1 : 0;
  },
};
