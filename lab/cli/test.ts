import { createProgress } from '../progress.ts';
import { runScenarios } from '../scenario/runner.ts';
import { parseCommon } from './options.ts';
import type { Verb } from './verbs.ts';

export const testVerb: Verb = {
  summary: 'run every scenario against the running lab and print the verdict table',
  usage: 'pnpm lab test [--name NAME] [--only id,id] [--json]',
  async run(args) {
    const options = parseCommon(args, { only: { type: 'string' } });
    const only = typeof options.flags.only === 'string' ? options.flags.only.split(',') : undefined;
    const label = only ? only.join(', ') : 'every scenario';
    return createProgress().step(`run ${label} against lab "${options.config.lab.name}" (vitest)`, () =>
      runScenarios(options.config.lab.name, { json: options.json, only }),
    );
  },
};
