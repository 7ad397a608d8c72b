#!/usr/bin/env node
/**
 * `pnpm lab <verb>`: parse flags, call the core, map error codes to exit codes
 * (0 ok, 1 a verdict failed, 2 bad input or nothing ran, 70 breakage).
 */
import { exitCodeOf, LabError, UsageError } from '../errors.ts';
import { onCommand } from '../exec.ts';
import { asksForHelp, renderVerbHelp, usageHint } from './usage.ts';
import { VERBS } from './verbs.ts';

async function main(argv: string[]): Promise<number> {
  const [first = 'help', ...args] = argv;
  // `lab --help`, `lab -h`: the overview (and `lab -h test` that verb's help).
  const verb = first === '--help' || first === '-h' ? 'help' : first;
  if (args.includes('--verbose') || args.includes('-v')) {
    onCommand((e) => process.stderr.write(`  $ ${e.command}  [exit ${e.exitCode ?? 'bg'}, ${e.durationMs} ms]\n`));
  }
  const handler = VERBS[verb];
  if (!handler) {
    throw new UsageError(`Unknown verb "${verb}". Verbs: ${Object.keys(VERBS).join(', ')}. Fix: pnpm lab --help lists them with what each does`);
  }
  // `<verb> --help` / `-h` before any `--`: that verb's help, whatever else is on the line.
  if (asksForHelp(args)) {
    process.stdout.write(renderVerbHelp(verb, handler));
    return 0;
  }
  try {
    return await handler.run(args);
  } catch (error) {
    // A usage error ends with the verb's usage and where its help is.
    if (error instanceof UsageError && verb !== 'help' && !error.message.includes('--help')) error.message += `\n${usageHint(verb, handler)}`;
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const label = error instanceof LabError ? error.code : 'E_BUG';
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`\nv6lab: ${label}: ${message}\n`);
    if (!(error instanceof LabError) && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    process.exitCode = exitCodeOf(error);
  },
);
