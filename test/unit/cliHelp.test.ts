/**
 * `--help` and `-h` on `lab` and on every verb: spawned as a user runs them (`node
 * lab/cli/lab.mjs <verb> --help`), each exits 0 and prints that verb's usage, options and one
 * example. Needs no lab and no root.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { asksForHelp, renderVerbHelp } from '../../lab/cli/usage.ts';
import { VERBS } from '../../lab/cli/verbs.ts';

const MAIN = fileURLToPath(new URL('../../lab/cli/lab.mjs', import.meta.url));

async function lab(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('lab --help', () => {
  it.concurrent.each([['--help'], ['-h'], ['help']])('lab %s lists every verb and exits 0', { timeout: 60_000 }, async (flag) => {
    const r = await lab(flag);
    expect(r.code, r.stderr).toBe(0);
    for (const verb of Object.keys(VERBS)) expect(r.stdout).toMatch(new RegExp(`^  ${verb} `, 'm'));
    expect(r.stdout).toContain('pnpm lab <verb> --help');
  });

  it.concurrent.each(Object.keys(VERBS))('lab %s --help: usage naming the verb, options, an example; exit 0', { timeout: 60_000 }, async (verb) => {
    const r = await lab(verb, '--help');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Usage:\n  pnpm lab ${verb}`);
    expect(r.stdout).toMatch(/\nOptions:\n(  .+\n)+\nExample:\n  pnpm lab /);
    expect(r.stdout).toContain('--help, -h');
  });

  it('-h is --help', { timeout: 60_000 }, async () => {
    const [long, short] = await Promise.all([lab('test', '--help'), lab('test', '-h')]);
    expect(short.code, short.stderr).toBe(0);
    expect(short.stdout).toBe(long.stdout);
  });

  it('every example names its own verb', () => {
    for (const [name, verb] of Object.entries(VERBS)) expect(verb.example, name).toMatch(new RegExp(`^pnpm lab ${name}\\b`));
  });

  it('--help after a literal -- belongs to the command, not to the lab', () => {
    expect(asksForHelp(['web-arm', '--', 'curl', '--help'])).toBe(false);
    expect(asksForHelp(['web-arm', '-h', '--', 'true'])).toBe(true);
  });

  it('renders the help of a verb as usage, options, example', () => {
    const text = renderVerbHelp('demo', { summary: 'a demo', usage: 'pnpm lab demo [--x]', options: [['--x', 'the x']], example: 'pnpm lab demo --x' });
    expect(text).toBe(
      'pnpm lab demo: a demo\n\nUsage:\n  pnpm lab demo [--x]\n\nOptions:\n  --x         the x\n  --help, -h  this help\n\nExample:\n  pnpm lab demo --x\n',
    );
  });

  it('an unknown option ends with the verb usage and where its help is (exit 2)', { timeout: 60_000 }, async () => {
    const r = await lab('status', '--bogus');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: pnpm lab status');
    expect(r.stderr).toContain('pnpm lab status --help');
  });

  it('an unknown verb names the verbs and the help (exit 2)', { timeout: 60_000 }, async () => {
    const r = await lab('nosuch');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown verb "nosuch"\. Verbs: up, test/);
    expect(r.stderr).toContain('pnpm lab --help');
  });
});
