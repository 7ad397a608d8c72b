import { describe, expect, it } from 'vitest';
import { run } from '../../lab/exec.ts';
import { batchMarker, parseBatch, renderBatch, succeedBatch } from '../../lab/nodes/batch.ts';
import type { Machine } from '../../lab/nodes/machine.ts';
import { CommandError } from '../../lab/errors.ts';

/** This machine's sh as the machine (the batch is plain shell: what web-arm's sh runs). */
const localSh: Pick<Machine, 'execute'> = { execute: (command, options) => run(['sh', '-c', command], { timeoutMs: options?.timeoutMs ?? 10_000, allowFailure: true }) };

describe('several reads in one round trip', () => {
  it('keeps each part exactly: its stdout (trailing newline or not, empty) and its exit code', async () => {
    const commands = ['printf "a\\nb\\n"', 'printf "no newline"', 'true', 'echo x; exit 3', 'echo after'];
    const marker = batchMarker();
    const result = await localSh.execute(renderBatch(commands, marker));
    expect(parseBatch(commands, result.stdout, marker)).toEqual([
      { command: commands[0], exitCode: 0, stdout: 'a\nb\n' },
      { command: commands[1], exitCode: 0, stdout: 'no newline' },
      { command: commands[2], exitCode: 0, stdout: '' },
      { command: commands[3], exitCode: 3, stdout: 'x\n' },
      { command: commands[4], exitCode: 0, stdout: 'after\n' },
    ]);
  });

  it('a batch cut short (a part missing) is not parsed as complete', () => {
    const marker = 'v6lab-batch-000000000000';
    expect(parseBatch(['echo a', 'echo b'], `a\n\n${marker} 0 0\nb\n`, marker)).toBeUndefined();
  });

  it('succeedBatch returns every stdout, or names the part that failed with its exit code', async () => {
    expect(await succeedBatch(localSh, ['echo one', 'echo two'])).toEqual(['one\n', 'two\n']);
    const error = await succeedBatch(localSh, ['echo one', 'echo oops >&2; exit 4', 'echo three']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).command).toBe('echo oops >&2; exit 4');
    expect((error as CommandError).commandExitCode).toBe(4);
    expect((error as CommandError).stderr).toContain('oops');
  });
});
