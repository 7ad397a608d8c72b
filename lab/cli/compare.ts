import { runCompare } from '../compare/compare.ts';
import { renderMatrixJson, renderMatrixTable } from '../compare/matrix.ts';
import { UsageError } from '../errors.ts';
import { createProgress } from '../progress.ts';
import { parseCommon } from './options.ts';
import type { Verb } from './verb.ts';
import { OPT } from './usage.ts';
import { capabilitiesOf } from '../tiers/capabilities.ts';
import { onInterrupt } from './interrupt.ts';

export const compareVerb: Verb = {
  summary: 'run several designs, each on its own lab, and print the design × scenario matrix',
  usage:
    'pnpm lab compare <design>[@v6only] <design>[@v6only] … [--host netns|qemu|vagrant] [--guest debian|nixos] [--arch x86_64|aarch64] [--no-snapshot] [--only id,id] [--parallel N] [--name PREFIX] [--set path=value …] [--json]',
  options: [OPT.host, OPT.guest, OPT.arch, OPT.noSnapshot, OPT.only, ['--parallel N', 'labs at once (default 2, 1 on the qemu tier)'], ['--name PREFIX', 'the labs are named PREFIXx0, PREFIXx1, … (at most 16 characters)'], OPT.set, OPT.json, OPT.verbose],
  example: 'pnpm lab compare v6egress routed-subprefix routed-subprefix-ndp',
  async run(args) {
    const options = parseCommon(args, { only: { type: 'string' }, parallel: { type: 'string' }, 'no-snapshot': { type: 'boolean' } });
    const designs = options.positionals;
    const parallel = typeof options.flags.parallel === 'string' ? Number(options.flags.parallel) : undefined;
    if (parallel !== undefined && (!Number.isInteger(parallel) || parallel < 1)) throw new UsageError('--parallel takes a whole number ≥ 1');
    const sets = ((options.flags.set as string[] | undefined) ?? []).filter((s) => !s.startsWith('design.') && !s.startsWith('lab.name='));
    // --host, --guest, --arch and --no-snapshot go to every `lab up` as they are (--host vagrant implies --guest nixos there).
    const upFlags = [
      ...(['host', 'guest', 'arch'] as const).flatMap((f) => (typeof options.flags[f] === 'string' ? [`--${f}`, options.flags[f] as string] : [])),
      ...(options.flags['no-snapshot'] === true ? ['--no-snapshot'] : []),
    ];
    // --name is the prefix of the labs' names (<prefix>x0, <prefix>x1, …).
    const namePrefix = typeof options.flags.name === 'string' ? options.flags.name : undefined;
    if (namePrefix !== undefined && `${namePrefix}x${designs.length - 1}`.length > 16) {
      throw new UsageError(`--name ${namePrefix}: the labs are named ${namePrefix}x0 … ${namePrefix}x${designs.length - 1}, at most 16 characters: use a shorter prefix`);
    }
    // Ctrl-C: the running design's lab is taken down, no other starts.
    const interrupt = onInterrupt('stopping the running design and taking its lab down');
    const { matrix, outputDir } = await runCompare(designs, {
      only: typeof options.flags.only === 'string' ? options.flags.only.split(',') : undefined,
      parallel,
      sets,
      upFlags,
      labsSideBySide: capabilitiesOf(options.config).labsSideBySide,
      ...(namePrefix !== undefined ? { namePrefix } : {}),
      progress: createProgress(),
      signal: interrupt.signal,
    }).finally(() => interrupt.dispose());
    process.stdout.write(options.json ? renderMatrixJson(matrix) : `\n${renderMatrixTable(matrix)}Markdown, JSON and HTML: ${outputDir}/matrix.{md,json,html}\n`);
    return matrix.unexpected ? 1 : 0;
  },
};
