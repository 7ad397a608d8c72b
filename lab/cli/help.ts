/**
 * `pnpm lab help`: every registered verb with its summary and usage. The registry hands its
 * verbs in (lab/cli/verbs.ts), so this file does not import it back. Writes to stdout.
 */
import type { Verb } from './verb.ts';

/** The help text for these verbs. Pure. */
export function helpText(verbs: Readonly<Record<string, Verb>>): string {
  const lines = ['v6lab: prove a network change on web-arm before production.', '', 'Verbs:'];
  for (const [name, verb] of Object.entries(verbs)) lines.push(`  ${name.padEnd(8)} ${verb.summary}\n           ${verb.usage}`);
  lines.push('', 'Exit codes: 0 ok, 1 a scenario failed, 2 bad input or nothing ran, 70 the lab broke.');
  return `${lines.join('\n')}\n`;
}

/** The help verb over the registry's verbs (read when it runs: help is one of them). */
export function helpVerb(verbs: () => Readonly<Record<string, Verb>>): Verb {
  return {
    summary: 'this help',
    usage: 'pnpm lab help',
    async run() {
      process.stdout.write(helpText(verbs()));
      return 0;
    },
  };
}
