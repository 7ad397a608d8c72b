import { UsageError } from '../errors.ts';
import { createProgress } from '../progress.ts';
import { requireUpState } from '../state/store.ts';
import { runScenarios } from '../scenario/runner.ts';
import { sameTier } from '../tiers/registry.ts';
import { parseCommon } from './options.ts';
import type { Verb } from './verb.ts';
import { onInterrupt } from './interrupt.ts';
import { OPT } from './usage.ts';

/** `--host`/`--arch` on test name the lab they expect: a lab up on another tier is an error, not a silent switch. */
function assertRunningTier(name: string, flags: Record<string, unknown>): void {
  // A lab that is down (or half up) says so, with the fix, before anything starts.
  const state = requireUpState(name);
  const wantTier = typeof flags.host === 'string' ? flags.host : undefined;
  const wantArch = typeof flags.arch === 'string' ? flags.arch : undefined;
  const arch = state.guest?.arch;
  if ((wantTier && !sameTier(wantTier, state.tier)) || (wantArch && wantArch !== arch)) {
    throw new UsageError(
      `lab "${name}" is up on the ${state.tier} tier${arch ? ` (${arch})` : ''}, not ${wantTier ?? state.tier}${wantArch ? ` (${wantArch})` : ''}. ` +
        `Fix: pnpm lab down${name === 'main' ? '' : ` --name ${name}`} && pnpm lab up${name === 'main' ? '' : ` --name ${name}`} --host ${wantTier ?? state.tier}${wantArch ? ` --arch ${wantArch}` : ''}`,
    );
  }
}

export const testVerb: Verb = {
  summary: 'run every scenario against the running lab and print the verdict table',
  usage: 'pnpm lab test [--name NAME] [--host netns|qemu] [--arch x86_64|aarch64] [--only id,id] [--repeat N] [--json]',
  options: [
    OPT.name,
    ['--host netns|qemu', 'the tier the lab is expected on (an error if it is up on another)'],
    ['--arch x86_64|aarch64', 'the architecture the lab is expected on'],
    OPT.only,
    ['--parallel N', 'web-arms at once: the lab\'s own and forks restored from the tier\'s snapshot, each with its own router and internet (qemu; default one per core as memory allows; 1: no forks)'],
    ['--repeat N', 'run the suite N times on the same lab (1–100) and print the flake rate: per scenario, how many runs differed from its declaration'],
    OPT.json,
    OPT.verbose,
  ],
  example: 'pnpm lab test --only egress-nat66,no-inbound',
  async run(args) {
    const options = parseCommon(args, { only: { type: 'string' }, repeat: { type: 'string' }, parallel: { type: 'string' } });
    const only = typeof options.flags.only === 'string' ? options.flags.only.split(',') : undefined;
    const repeat = parseRepeat(options.flags.repeat);
    const parallel = parseParallel(options.flags.parallel);
    assertRunningTier(options.config.lab.name, options.flags);
    const label = `${only ? only.join(', ') : 'every scenario'}${repeat > 1 ? `, ${repeat} times` : ''}`;
    // Ctrl-C stops the run; forks of the lab are taken down before the verb ends.
    const interrupt = onInterrupt('stopping the scenarios and taking down any fork of the lab');
    return createProgress().step(`run ${label} against lab "${options.config.lab.name}" (vitest)`, () =>
      runScenarios(options.config.lab.name, { json: options.json, only, verbose: options.verbose, repeat, ...(parallel !== undefined ? { parallel } : {}), signal: interrupt.signal }),
    ).finally(() => interrupt.dispose());
  },
};

/** --parallel N: web-arms at once, 1 to 8 (undefined: the tier's default). */
export function parseParallel(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 8) throw new UsageError(`--parallel: expected a number of web-arms from 1 to 8, got "${String(value)}". Fix: e.g. --parallel 2 (1: no forks)`);
  return n;
}

/** --repeat N: a whole number of runs, 1 to 100 (a bound: each run is a whole suite). */
export function parseRepeat(value: unknown): number {
  if (value === undefined) return 1;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new UsageError(`--repeat: expected a number of runs from 1 to 100, got "${String(value)}". Fix: e.g. --repeat 10`);
  return n;
}
