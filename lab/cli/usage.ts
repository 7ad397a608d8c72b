/**
 * `--help` and `-h`: the overview of every verb and one verb's usage, options and example.
 * Pure: renders strings from the verbs' own declarations; no I/O.
 */

/** One option a verb takes: the flag as typed and what it does. */
export type VerbOption = readonly [flag: string, description: string];

/** What a verb tells about itself (the registry in verbs.ts holds these with their `run`). */
export interface VerbHelp {
  summary: string;
  usage: string;
  options: readonly VerbOption[];
  example: string;
}

/** Options several verbs share, described once. */
export const OPT = {
  name: ['--name NAME', 'the lab to act on (default: main); several labs can be up side by side'],
  json: ['--json', 'print the result as JSON on stdout (progress stays on stderr)'],
  verbose: ['--verbose, -v', 'show every command the lab runs, with its exit code and duration'],
  set: ['--set path=value', 'override one config value (repeatable), e.g. --set design.name=routed-subprefix'],
  host: ['--host netns|qemu|vagrant', 'the tier: network namespaces (default), a QEMU guest, or a Vagrant VM'],
  guest: ['--guest debian|nixos', "web-arm's OS on the qemu tier (default debian; vagrant: nixos)"],
  arch: ['--arch x86_64|aarch64', "web-arm's CPU architecture on the qemu tier (default: this machine's)"],
  noSnapshot: ['--no-snapshot', 'boot web-arm cold instead of restoring the clean web-arm snapshot (qemu tier)'],
  noDesignSnapshot: ['--no-design-snapshot', 'apply the design on the clean web-arm instead of restoring a design-applied snapshot, and save none (qemu tier)'],
  only: ['--only id,id', 'run only these scenarios (ids as in README, e.g. egress-nat66,no-inbound)'],
} as const satisfies Record<string, VerbOption>;

const HELP_OPTION: VerbOption = ['--help, -h', 'this help'];

/** The flags that ask for help wherever they stand before a literal `--`. */
export function asksForHelp(args: readonly string[]): boolean {
  const dash = args.indexOf('--');
  return (dash >= 0 ? args.slice(0, dash) : args).some((a) => a === '--help' || a === '-h');
}

function optionLines(options: readonly VerbOption[]): string[] {
  const all = [...options, HELP_OPTION];
  const width = Math.max(...all.map(([flag]) => flag.length));
  return all.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`);
}

/** `pnpm lab <verb> --help`: the verb's usage, its options and one example, ending in a newline. */
export function renderVerbHelp(name: string, verb: VerbHelp): string {
  return [
    `pnpm lab ${name}: ${verb.summary}`,
    '',
    'Usage:',
    `  ${verb.usage}`,
    '',
    'Options:',
    ...optionLines(verb.options),
    '',
    'Example:',
    `  ${verb.example}`,
    '',
  ].join('\n');
}

/** `pnpm lab --help`: every verb with its summary, then how to get one verb's help. */
export function renderOverview(verbs: Readonly<Record<string, VerbHelp>>): string {
  const width = Math.max(...Object.keys(verbs).map((n) => n.length));
  return [
    'v6lab: prove a network change on web-arm before production.',
    '',
    'Usage:',
    '  pnpm lab <verb> [options]',
    '',
    'Verbs:',
    ...Object.entries(verbs).map(([name, verb]) => `  ${name.padEnd(width)}  ${verb.summary}`),
    '',
    'Start with: pnpm lab up && pnpm lab test   (as root; pnpm lab down removes everything)',
    'One verb in detail: pnpm lab <verb> --help   (e.g. pnpm lab test --help)',
    '',
    'Exit codes: 0 ok, 1 a scenario failed, 2 bad input or nothing ran, 70 the lab broke.',
    '',
  ].join('\n');
}

/** The line a usage error ends with: the verb's usage and where its help is. */
export function usageHint(name: string, verb: Pick<VerbHelp, 'usage'>): string {
  return `Usage: ${verb.usage}\nOptions and an example: pnpm lab ${name} --help`;
}
