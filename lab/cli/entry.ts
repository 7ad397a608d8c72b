/**
 * The lab CLI's entry point for child processes (compare's labs, forks, bench, tests): lab.mjs,
 * as `pnpm lab` runs it, so a child gets the Node check and Node's compile cache
 * (compileCache.mjs) like a person's command does.
 */
import { fileURLToPath } from 'node:url';

export const LAB_CLI = fileURLToPath(new URL('./lab.mjs', import.meta.url));

/** Matches a command line running the lab CLI (its entry point or main.ts itself), in any checkout. */
export const LAB_CLI_COMMAND = /\/lab\/cli\/(main\.ts|lab\.mjs)( |$)/;
