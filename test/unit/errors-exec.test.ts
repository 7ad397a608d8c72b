import { describe, expect, it } from 'vitest';
import {
  CommandError,
  ConfigError,
  exitCodeOf,
  HostError,
  LabBrokenError,
  LabError,
  LabStateError,
  stderrTail,
  TeardownError,
  UsageError,
  VerdictError,
  WaitTimeoutError,
} from '../../lab/errors.ts';
import { formatArgv, nsenterArgv, onCommand, probe, recentCommands, run, succeed, type JournalEntry } from '../../lab/exec.ts';

function commandFields(overrides: Partial<ConstructorParameters<typeof CommandError>[0]> = {}): ConstructorParameters<typeof CommandError>[0] {
  return { command: 'ip link add x', exitCode: 2, signal: undefined, timedOut: false, stdout: '', stderr: 'RTNETLINK answers: File exists\n', durationMs: 12, ...overrides };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

describe('error classes', () => {
  const cases: Array<[LabError, string, number, string]> = [
    [new ConfigError('lab.name', 'X', 'bad', 'fix it'), 'E_CONFIG', 2, 'ConfigError'],
    [new UsageError('unknown verb'), 'E_USAGE', 2, 'UsageError'],
    [new LabStateError('no lab up'), 'E_STATE', 2, 'LabStateError'],
    [new HostError('not root'), 'E_HOST', 2, 'HostError'],
    [new VerdictError('ping', 'reply', 'timeout'), 'E_VERDICT', 1, 'VerdictError'],
    [new CommandError(commandFields()), 'E_COMMAND', 70, 'CommandError'],
    [new WaitTimeoutError('podman socket', 5000, 'ENOENT'), 'E_WAIT', 70, 'WaitTimeoutError'],
    [new TeardownError([new Error('a')]), 'E_TEARDOWN', 70, 'TeardownError'],
    [new LabBrokenError('broken'), 'E_BROKEN', 70, 'LabBrokenError'],
  ];

  for (const [error, code, exitCode, name] of cases) {
    it(`${name}: code ${code}, exit code ${exitCode}`, () => {
      expect(error).toBeInstanceOf(LabError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(error.exitCode).toBe(exitCode);
      expect(error.name).toBe(name);
      expect(exitCodeOf(error)).toBe(exitCode);
    });
  }

  it('maps anything that is not a LabError to 70', () => {
    expect(exitCodeOf(new Error('x'))).toBe(70);
    expect(exitCodeOf('string')).toBe(70);
    expect(exitCodeOf(undefined)).toBe(70);
  });

  it('formats ConfigError, VerdictError, WaitTimeoutError and TeardownError messages', () => {
    const c = new ConfigError('webArm.mac', 'XX', 'not a MAC', 'use 96:00:02:c0:12:43');
    expect(c.message).toBe('webArm.mac: not a MAC (got "XX"). Fix: use 96:00:02:c0:12:43');
    expect(c).toMatchObject({ field: 'webArm.mac', value: 'XX', fix: 'use 96:00:02:c0:12:43' });
    const v = new VerdictError('ssh blocked', 'refused', 'open');
    expect(v.message).toBe('ssh blocked: expected refused, saw open');
    expect(v).toMatchObject({ expected: 'refused', seen: 'open' });
    expect(new WaitTimeoutError('the socket', 500, 'nothing').message).toBe('Timed out after 500 ms waiting for the socket; last seen: nothing');
    const t = new TeardownError([new Error('one'), new Error('two')]);
    expect(t.message).toBe('Teardown finished with 2 failure(s):\n- one\n- two');
    expect(t.failures).toHaveLength(2);
    const cause = new Error('root');
    expect(new LabBrokenError('x', { cause }).cause).toBe(cause);
  });
});

describe('CommandError', () => {
  it('says the exit code and the stderr tail', () => {
    const e = new CommandError(commandFields());
    expect(e.message).toBe('Command failed with exit code 2: ip link add x\nRTNETLINK answers: File exists');
    expect(e.commandExitCode).toBe(2);
    expect(e.exitCode).toBe(70);
    expect(e.stderr).toBe('RTNETLINK answers: File exists\n');
  });

  it('says "timed out after" with the timeout, else the duration', () => {
    expect(new CommandError(commandFields({ timedOut: true, timeoutMs: 200, signal: 'SIGTERM', exitCode: undefined })).message).toMatch(/^Command failed with timed out after 200 ms: ip link add x/);
    expect(new CommandError(commandFields({ timedOut: true, durationMs: 321 })).message).toMatch(/^Command failed with timed out after 321 ms/);
  });

  it('says "killed by" the signal', () => {
    const e = new CommandError(commandFields({ signal: 'SIGKILL', exitCode: undefined, stderr: '' }));
    expect(e.message).toBe('Command failed with killed by SIGKILL: ip link add x');
    expect(e.signal).toBe('SIGKILL');
  });

  it('falls back to stdout for the tail and keeps only the last 8 lines', () => {
    expect(new CommandError(commandFields({ stderr: '', stdout: 'only stdout\n' })).message).toBe('Command failed with exit code 2: ip link add x\nonly stdout');
    const many = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n');
    const e = new CommandError(commandFields({ stderr: many }));
    expect(e.message.split('\n').slice(1)).toEqual(Array.from({ length: 8 }, (_, i) => `line ${i + 12}`));
    expect(stderrTail('a\nb\nc\n', 2)).toBe('b\nc');
    expect(stderrTail('')).toBe('');
  });
});

describe('formatArgv', () => {
  it('leaves plain words alone and single-quotes the rest', () => {
    expect(formatArgv(['ip', '-n', 'v6lab-main-web-arm', 'addr', 'add', '2a01:4f8:c012:43b::1/64', 'dev', 'enp1s0'])).toBe(
      'ip -n v6lab-main-web-arm addr add 2a01:4f8:c012:43b::1/64 dev enp1s0',
    );
    expect(formatArgv(['sh', '-c', 'echo out; exit 3'])).toBe("sh -c 'echo out; exit 3'");
    expect(formatArgv(['echo', "it's"])).toBe("echo 'it'\\''s'");
    expect(formatArgv(['printf', ''])).toBe("printf ''");
    expect(formatArgv(['a', '$HOME', '*', 'x\ny'])).toBe("a '$HOME' '*' 'x\ny'");
    expect(formatArgv(['--opt=a,b', 'user@host:/p', '50%'])).toBe('--opt=a,b user@host:/p 50%');
  });

  it('round-trips through sh', async () => {
    const args = ["it's", 'a b', '', '$HOME', '"q"', 'back\\slash'];
    const result = await run(['sh', '-c', `printf '%s|' ${formatArgv(args)}`]);
    expect(result.stdout).toBe(args.map((a) => `${a}|`).join(''));
  });
});

describe('run', () => {
  it('returns exit code and both streams with allowFailure', async () => {
    const r = await run(['sh', '-c', 'echo out; echo err >&2; exit 3'], { allowFailure: true });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\n');
    expect(r.signal).toBeUndefined();
    expect(r.command).toBe("sh -c 'echo out; echo err >&2; exit 3'");
    expect(r.argv).toEqual(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('throws a CommandError with the command and the stderr tail without allowFailure', async () => {
    const e = await rejection(run(['sh', '-c', 'echo out; echo err >&2; exit 3']));
    expect(e).toBeInstanceOf(CommandError);
    const c = e as CommandError;
    expect(c.command).toBe("sh -c 'echo out; echo err >&2; exit 3'");
    expect(c.commandExitCode).toBe(3);
    expect(c.timedOut).toBe(false);
    expect(c.stdout).toBe('out\n');
    expect(c.stderr).toBe('err\n');
    expect(c.message).toBe("Command failed with exit code 3: sh -c 'echo out; echo err >&2; exit 3'\nerr");
    expect(exitCodeOf(c)).toBe(70);
  });

  it('kills a command at its timeout with a CommandError saying so, even with allowFailure', async () => {
    const started = Date.now();
    const e = await rejection(run(['sleep', '5'], { timeoutMs: 200 }));
    expect(Date.now() - started).toBeLessThan(4000);
    expect(e).toBeInstanceOf(CommandError);
    const c = e as CommandError;
    expect(c.timedOut).toBe(true);
    expect(c.message).toMatch(/^Command failed with timed out after 200 ms: sleep 5/);
    const again = await rejection(run(['sleep', '5'], { timeoutMs: 200, allowFailure: true }));
    expect((again as CommandError).timedOut).toBe(true);
  });

  it('passes input, environment and working directory', async () => {
    expect((await run(['sh', '-c', 'cat'], { input: 'fed in' })).stdout).toBe('fed in');
    expect((await run(['sh', '-c', 'printf %s "$V6LAB_T"'], { env: { V6LAB_T: 'x y' } })).stdout).toBe('x y');
    expect((await run(['sh', '-c', 'pwd'], { cwd: '/' })).stdout).toBe('/\n');
    expect(await succeed(['sh', '-c', 'echo "  padded  "'])).toBe('padded');
  });

  it('records every command in the journal and tells listeners', async () => {
    const seen: JournalEntry[] = [];
    const off = onCommand((entry) => seen.push(entry));
    await run(['sh', '-c', 'echo e1 >&2; echo e2 >&2; exit 4'], { allowFailure: true });
    off();
    await run(['true']);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ command: "sh -c 'echo e1 >&2; echo e2 >&2; exit 4'", exitCode: 4, stderrTail: 'e1\ne2' });
    expect(recentCommands().at(-1)?.command).toBe('true');
  });

  it('rejects an empty argv', async () => {
    await expect(run([])).rejects.toThrow(TypeError);
  });
});

describe('probe', () => {
  it('is true for exit 0 and false otherwise, never throwing for a non-zero exit', async () => {
    expect(await probe(['sh', '-c', 'exit 0'])).toBe(true);
    expect(await probe(['sh', '-c', 'exit 1'])).toBe(false);
    expect(await probe(['sh', '-c', 'echo noise >&2; exit 7'])).toBe(false);
    expect(await probe(['/nonexistent/v6lab-no-such-program'])).toBe(false);
  });

  it('still throws on a timeout', async () => {
    const e = await rejection(probe(['sleep', '5'], { timeoutMs: 100 }));
    expect((e as CommandError).timedOut).toBe(true);
  });
});

describe('nsenterArgv', () => {
  it('enters by namespace file or by pid', () => {
    expect(nsenterArgv({ net: '/run/netns/x' }, ['ip', 'a'])).toEqual(['nsenter', '--net=/run/netns/x', '--', 'ip', 'a']);
    expect(nsenterArgv({ net: '/n', mount: '/m' }, ['true'])).toEqual(['nsenter', '--net=/n', '--mount=/m', '--', 'true']);
    expect(nsenterArgv({ pid: 42 }, ['true'])).toEqual(['nsenter', '--target=42', '--net', '--', 'true']);
    expect(nsenterArgv({ pid: 42, all: true }, ['true'])).toEqual(['nsenter', '--target=42', '--net', '--mount', '--uts', '--ipc', '--pid', '--', 'true']);
  });
});
