import type { Verb } from './verbs.ts';

export const helpVerb: Verb = {
  summary: 'this help',
  usage: 'pnpm lab help',
  async run() {
    const { VERBS } = await import('./verbs.ts');
    const lines = ['v6lab: prove a network change on web-arm before production.', '', 'Verbs:'];
    for (const [name, verb] of Object.entries(VERBS)) lines.push(`  ${name.padEnd(8)} ${verb.summary}\n           ${verb.usage}`);
    lines.push('', 'Exit codes: 0 ok, 1 a scenario failed, 2 bad input or nothing ran, 70 the lab broke.');
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
