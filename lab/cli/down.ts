import { labDown } from '../lifecycle/down.ts';
import { assertRoot } from '../host/packages.ts';
import { createProgress, formatDuration } from '../progress.ts';
import { parseCommon } from './options.ts';
import type { Verb } from './verb.ts';
import { OPT } from './usage.ts';

export const downVerb: Verb = {
  summary: 'remove everything the lab created (idempotent)',
  usage: 'pnpm lab down [--name NAME] [--json]',
  options: [OPT.name, OPT.json, OPT.verbose],
  example: 'pnpm lab down --name h18',
  async run(args) {
    const options = parseCommon(args);
    assertRoot();
    const started = performance.now();
    const report = await labDown(options.config, createProgress());
    if (options.json) process.stdout.write(`${JSON.stringify({ lab: options.config.lab.name, ...report }, null, 2)}\n`);
    else process.stdout.write(`lab "${options.config.lab.name}" is down (${report.removed.length} thing(s) removed in ${formatDuration(performance.now() - started)}).\n`);
    return 0;
  },
};
