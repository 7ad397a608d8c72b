/**
 * The lab's CLI as integration tests call it: one argv builder for every test, so `--name`
 * always lands before a `--` (after which everything is the command run on a node).
 */
import { LAB_CLI } from '../../lab/cli/entry.ts';
import { run, type RunResult } from '../../lab/exec.ts';

/** The CLI as `pnpm lab` runs it (lab.mjs: the Node check, Node's compile cache). */
export const CLI = LAB_CLI;

/** node + CLI + args with `--name lab` inserted before any `--`. */
export function labArgv(lab: string, args: readonly string[]): string[] {
  const dash = args.indexOf('--');
  const own = dash >= 0 ? args.slice(0, dash) : args;
  const rest = dash >= 0 ? args.slice(dash) : [];
  return [process.execPath, CLI, ...own, '--name', lab, ...rest];
}

/** Runs `pnpm lab <args> --name lab` and returns its result whatever the exit code. */
export function runLab(lab: string, args: readonly string[], options: { timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return run(labArgv(lab, args), { allowFailure: true, timeoutMs: options.timeoutMs ?? 20 * 60_000, ...(options.input !== undefined ? { input: options.input } : {}) });
}
