/**
 * What a verb is: a summary and a usage line for `help`, and a `run` that returns the exit code.
 * Each verb's file implements it; lab/cli/verbs.ts registers them. Types only. Pure.
 */
export interface Verb {
  summary: string;
  usage: string;
  run(args: string[]): Promise<number>;
}
