/**
 * Debian's nix-bin (`nix-instantiate`) as a checker of what the lab renders: parse a module,
 * or evaluate an expression to JSON. It needs no store and no nixpkgs: `--parse` reads
 * the syntax, `--eval --strict --json` evaluates pure expressions only.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probe, run } from '../exec.ts';

const TOOL = 'nix-instantiate';

/** Options that keep nix-instantiate from wanting a store or a daemon. */
const READ_ONLY = ['--readonly-mode', '--option', 'build-users-group', ''];

export function nixParseArgv(file: string): string[] {
  return [TOOL, ...READ_ONLY, '--parse', file];
}

export function nixEvalJsonArgv(expression: string): string[] {
  return [TOOL, ...READ_ONLY, '--eval', '--strict', '--json', '--expr', expression];
}

/** Whether nix-instantiate is on PATH (and runs). */
export function hasNixInstantiate(): Promise<boolean> {
  return probe([TOOL, '--version'], { timeoutMs: 10_000 }).catch(() => false);
}

/** Parses a Nix file's text; throws CommandError (with nix's message) on a syntax error. */
export async function parseNixText(text: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'v6lab-nix-'));
  try {
    const file = join(dir, 'module.nix');
    writeFileSync(file, text);
    return (await run(nixParseArgv(file), { timeoutMs: 30_000 })).stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Evaluates `expression(file)` where file holds text, and returns its JSON value. */
export async function evalNixJson(text: string, expression: (file: string) => string): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'v6lab-nix-'));
  try {
    const file = join(dir, 'module.nix');
    writeFileSync(file, text);
    return JSON.parse((await run(nixEvalJsonArgv(expression(file)), { timeoutMs: 30_000 })).stdout) as unknown;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
