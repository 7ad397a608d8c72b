/**
 * What a verb is: its help (usage, options, one example; lab/cli/usage.ts) and a `run` that
 * returns the exit code. Each verb's file implements it; lab/cli/verbs.ts registers them.
 * Types only. Pure.
 */
import type { VerbHelp } from './usage.ts';

export interface Verb extends VerbHelp {
  run(args: string[]): Promise<number>;
}
