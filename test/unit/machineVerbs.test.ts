import { describe, expect, it } from 'vitest';
import { CommandError } from '../../lab/errors.ts';
import type { RunResult } from '../../lab/exec.ts';
import { expectedFailure, waitUntilCommandSucceeds } from '../../lab/nodes/machine.ts';

function result(exitCode: number, stdout = '', stderr = ''): RunResult {
  return { command: 'cmd', argv: ['cmd'], exitCode, signal: undefined, stdout, stderr, durationMs: 1 };
}

describe('verbs every machine kind shares', () => {
  it('fail returns the output of a failed command and throws when it succeeded', () => {
    expect(expectedFailure('[web-arm] false', result(1, '', 'boom'))).toBe('boom');
    expect(expectedFailure('[web-arm] false', result(2, 'out'))).toBe('out');
    expect(() => expectedFailure('[web-arm] true', result(0))).toThrow(CommandError);
    expect(() => expectedFailure('[web-arm] true', result(0))).toThrow('[web-arm] true (expected to fail, but it succeeded)');
  });

  it('waitUntilSucceeds retries until exit 0, each try bounded', async () => {
    const tries: number[] = [];
    const out = await waitUntilCommandSucceeds('[x] probe', async (t) => {
      tries.push(t);
      return tries.length < 3 ? result(1, '', 'not yet') : result(0, 'ready');
    }, 5_000, 1);
    expect(out).toBe('ready');
    expect(tries).toEqual([5_000, 5_000, 5_000]);
    await expect(waitUntilCommandSucceeds('[x] never', async () => result(1, '', 'nope'), 50, 10)).rejects.toThrow('exit 1: nope');
  });
});
