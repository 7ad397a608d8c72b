/**
 * The foreign-architecture wrapper the arm64 guest image is built in: an aarch64 binary runs
 * inside it through qemu-user registered in a private binfmt_misc, and the machine's own
 * binfmt_misc, mounts and processes are as they were afterwards, also when the wrapped
 * command is killed by its timeout. Needs root and qemu-user-static (a second or two).
 */
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CommandError } from '../../lab/errors.ts';
import { run, succeed } from '../../lab/exec.ts';
import { findProcesses } from '../../lab/host/processes.ts';
import { binfmtConfPath, foreignArchArgv, hostArch, parseBinfmtRegistration, type BinfmtRegistration } from '../../lab/images/foreign.ts';
import { waitUntil } from '../../lab/wait.ts';

const conf = binfmtConfPath('arm64');
const enabled = process.getuid?.() === 0 && hostArch() === 'amd64' && existsSync(conf) && existsSync('/usr/lib/arch-test/arm64');

/** The machine's own binfmt_misc registrations, read through a throwaway mount of it. */
async function machineBinfmt(): Promise<string[]> {
  const out = await succeed(['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc && ls /proc/sys/fs/binfmt_misc']);
  return out.split('\n').filter(Boolean).sort();
}

function binfmtMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => /binfmt_misc/.test(l));
}

describe.runIf(enabled)('foreign-architecture builds: a private binfmt_misc in a user namespace', () => {
  // Read only where the suite runs: without qemu-user-static there is no registration file, and a
  // skipped describe's body is still collected.
  let registration: BinfmtRegistration;
  beforeAll(() => {
    registration = parseBinfmtRegistration(readFileSync(conf, 'utf8'), conf);
  });

  it('runs an aarch64 binary through qemu-user inside, as root with real ids', async () => {
    const before = await machineBinfmt();
    const mountsBefore = binfmtMounts();
    expect(before).not.toContain(registration.name);
    const inside = await succeed(
      foreignArchArgv(registration, ['sh', '-c', `cat /proc/sys/fs/binfmt_misc/${registration.name}; /usr/lib/arch-test/arm64; id -u; cat /proc/self/uid_map`]),
      { timeoutMs: 30_000 },
    );
    expect(inside).toContain('enabled');
    expect(inside).toMatch(/^flags: [A-Z]*F[A-Z]*$/m);
    expect(inside).toMatch(/^ok$/m);
    expect(inside).toMatch(/^0$/m);
    expect(inside).toMatch(/^\s*0\s+0\s+65536$/m);
    // Outside, nothing changed: the machine cannot run it, and its binfmt_misc is as it was.
    const outside = await run(['/usr/lib/arch-test/arm64'], { allowFailure: true });
    expect(outside.exitCode).not.toBe(0);
    expect(await machineBinfmt()).toEqual(before);
    expect(binfmtMounts()).toEqual(mountsBefore);
  });

  it('fails with the command when it fails, and leaves nothing running after a timeout', async () => {
    const mountsBefore = binfmtMounts();
    const failed = await run(foreignArchArgv(registration, ['sh', '-c', 'exit 3']), { allowFailure: true, timeoutMs: 30_000 });
    expect(failed.exitCode).toBe(3);
    const mark = `v6lab-foreign-timeout-${process.pid}`;
    const error = await run(foreignArchArgv(registration, ['sh', '-c', `sleep 60; echo ${mark}`]), { timeoutMs: 1_500 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).timedOut).toBe(true);
    await waitUntil('the timed-out wrapper and everything in it to be gone', async () => findProcesses({ cmdlineContains: mark }).length === 0, {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    expect(binfmtMounts()).toEqual(mountsBefore);
  });
});
