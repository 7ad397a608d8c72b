#!/usr/bin/env node
/**
 * `pnpm lab <verb>`: parse flags, call the core, map error codes to exit codes
 * (0 ok, 1 a verdict failed, 2 bad input or nothing ran, 70 breakage).
 */
import { exitCodeOf, LabError, UsageError } from '../errors.ts';
import { onCommand } from '../exec.ts';
import { VERBS } from './verbs.ts';

async function main(argv: string[]): Promise<number> {
  const [verb = 'help', ...args] = argv;
  if (args.includes('--verbose') || args.includes('-v')) {
    onCommand((e) => process.stderr.write(`  $ ${e.command}  [exit ${e.exitCode ?? 'bg'}, ${e.durationMs} ms]\n`));
  }
  const handler = VERBS[verb];
  if (!handler) throw new UsageError(`Unknown verb "${verb}". Verbs: ${Object.keys(VERBS).join(', ')}`);
  return handler.run(args);
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
