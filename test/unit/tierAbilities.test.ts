/**
 * The tier seam's optional abilities and web-arm's logs through it: the qemu tier's snapshots
 * (listed and removed from a cache on disk, also through `lab snapshot`), web-arm's serial
 * console, and the logs every tier's WebArm finds by name (the netns tier's unit files, a real
 * systemd's journal through the machine). No root, no VM: files in a temporary directory and a
 * scripted machine.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../lab/errors.ts';
import type { RunResult } from '../../lab/exec.ts';
import { consoleLog, followArgv } from '../../lab/inspect/logs.ts';
import type { Machine } from '../../lab/nodes/machine.ts';
import { journalCommand, journalLogs } from '../../lab/tiers/journalLogs.ts';
import { netnsLogs } from '../../lab/tiers/netns/logs.ts';
import { netnsWebArm } from '../../lab/tiers/netns/webArmSystem.ts';
import { qemuSnapshots } from '../../lab/tiers/qemu/snapshotAbility.ts';
import { renderSnapshotMeta, snapshotPaths, type SnapshotMeta } from '../../lab/tiers/qemu/snapshot.ts';
import { vmConsole, vmNames } from '../../lab/tiers/qemu/vm.ts';
import { vmRunFiles } from '../../lab/tiers/qemu/argv.ts';
import { allTiers, getTier } from '../../lab/tiers/registry.ts';
import { defaultConfig } from '../../lab/topology/config.ts';
import { planLab, type LabPlan } from '../../lab/topology/plan.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'v6lab-abilities-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function meta(key: string, savedAt: string, stateBytes: number, diskBytes: number): SnapshotMeta {
  return {
    schema: 'v6lab.qemu-snapshot/1',
    key,
    savedAt,
    savedBy: 'ab1',
    imageHash: '89195b7859c2',
    arch: 'amd64',
    accel: 'tcg',
    qemuVersion: 'QEMU emulator version 7.2.19',
    memoryMiB: 1024,
    stateBytes,
    diskBytes,
    saveMs: 900,
    migrateMs: 700,
    diskCopyMs: 200,
    bootToReadyMs: 61_000,
  };
}

/** A whole snapshot on disk: meta.json and files of the sizes it names. */
function writeSnapshot(cache: string, m: SnapshotMeta): void {
  const paths = snapshotPaths(join(cache, 'qemu', 'snapshots'), m.key);
  mkdirSync(paths.dir, { recursive: true });
  writeFileSync(paths.state, Buffer.alloc(m.stateBytes));
  writeFileSync(paths.disk, Buffer.alloc(m.diskBytes));
  writeFileSync(paths.meta, renderSnapshotMeta(m));
}

describe('snapshots: an optional ability of a tier', () => {
  it('only the qemu tier has it, and every tier is asked by the ability, not by name', () => {
    expect(allTiers().filter((t) => t.snapshots).map((t) => t.name)).toEqual(['qemu']);
    expect(getTier('netns').snapshots).toBeUndefined();
  });

  it('lists whole snapshots newest first, leaves out partial and broken ones, removes by key', () => {
    const previous = process.env.V6LAB_CACHE_DIR;
    process.env.V6LAB_CACHE_DIR = dir;
    try {
      writeSnapshot(dir, meta('00000000000000aa', '2026-12-01T10:00:00.000Z', 300, 200));
      writeSnapshot(dir, meta('00000000000000bb', '2026-12-05T10:00:00.000Z', 30, 20));
      // A partial save of a live process, and a snapshot whose state.bin was truncated.
      mkdirSync(join(dir, 'qemu', 'snapshots', `.00000000000000cc.partial-${process.pid}`), { recursive: true });
      writeSnapshot(dir, meta('00000000000000dd', '2026-12-06T10:00:00.000Z', 10, 10));
      writeFileSync(snapshotPaths(join(dir, 'qemu', 'snapshots'), '00000000000000dd').state, 'short');

      const listed = qemuSnapshots.listSnapshots();
      expect(listed.map((s) => s.key)).toEqual(['00000000000000bb', '00000000000000aa']);
      expect(listed[1]).toMatchObject({ savedBy: 'ab1', bytes: 500, facts: { arch: 'amd64', accel: 'tcg', 'cold boot it saves': '61 s' } });
      expect(listed[1]!.what).toMatch(/clean web-arm/);

      expect(qemuSnapshots.removeSnapshot('00000000000000aa')).toBe(true);
      // Removing one already gone is success, and says so.
      expect(qemuSnapshots.removeSnapshot('00000000000000aa')).toBe(false);
      expect(qemuSnapshots.listSnapshots().map((s) => s.key)).toEqual(['00000000000000bb']);
    } finally {
      if (previous === undefined) delete process.env.V6LAB_CACHE_DIR;
      else process.env.V6LAB_CACHE_DIR = previous;
    }
  });

  it('lab snapshot lists and removes them as a user runs it; bad input exits 2 and removes nothing', { timeout: 60_000 }, async () => {
    writeSnapshot(dir, meta('00000000000000aa', '2026-12-01T10:00:00.000Z', 300, 200));
    writeSnapshot(dir, meta('00000000000000bb', '2026-12-05T10:00:00.000Z', 30, 20));
    const env = { ...process.env, V6LAB_CACHE_DIR: dir };
    const lab = (...args: string[]) =>
      run(process.execPath, [join(ROOT, 'lab/cli/lab.mjs'), 'snapshot', ...args], { env, cwd: ROOT }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );

    const list = await lab('list', '--json');
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { snapshots: Array<{ tier: string; key: string }> }).snapshots.map((s) => `${s.tier} ${s.key}`)).toEqual([
      'qemu 00000000000000bb',
      'qemu 00000000000000aa',
    ]);

    for (const bad of [['rm'], ['rm', 'not-a-key'], ['rm', '00000000000000aa', '--all'], ['prune'], ['list', '--host', 'netns']]) {
      const r = await lab(...bad);
      expect(r.code, bad.join(' ')).toBe(2);
      expect(r.stderr, bad.join(' ')).toMatch(/Fix:|usage:/);
    }
    expect(JSON.parse((await lab('list', '--json')).stdout).snapshots).toHaveLength(2);

    const removed = await lab('rm', '00000000000000aa', '00000000000000ff', '--json');
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout)).toEqual({ removed: ['00000000000000aa'], alreadyGone: ['00000000000000ff'] });
    const all = await lab('rm', '--all');
    expect(all.stdout).toContain('removed 00000000000000bb');
    expect((await lab('list')).stdout).toMatch(/^no snapshots on this machine/);
  });
});

describe("web-arm's console: an optional ability of a started web-arm", () => {
  it("a VM's console is its console.log, read by its last lines", () => {
    const names = vmNames('ab1', 'web-arm');
    const console = vmConsole({ ...names, runDir: dir });
    expect(console.consolePath).toBe(vmRunFiles(dir).consoleLog);
    expect(console.consoleTail(5)).toBe('');
    writeFileSync(console.consolePath, 'Linux version 6.12\nsystemd[1]: Reached target multi-user.target\nweb-arm login:\n');
    expect(console.consoleTail(2)).toBe('systemd[1]: Reached target multi-user.target\nweb-arm login:');
  });

  it('a web-arm without one (the netns tier) says so and names the fix', () => {
    const webArm = netnsWebArm(planLab(defaultConfig()), { tag: 'x', tarball: '/nonexistent' });
    expect(webArm.console).toBeUndefined();
    expect(() => consoleLog(webArm, 10)).toThrow(UsageError);
    expect(() => consoleLog(webArm, 10)).toThrow(/netns tier has no serial console.*Fix:/);
  });
});

/** A machine that answers from a script (by the start of the command) and records what it ran. */
function scriptedMachine(name: string, answers: Array<[prefix: string, stdout: string]>): Machine & { ran: string[] } {
  const ran: string[] = [];
  const answer = (command: string): RunResult => {
    ran.push(command);
    const hit = answers.find(([prefix]) => command.startsWith(prefix));
    return { command, argv: ['sh', '-c', command], exitCode: hit ? 0 : 1, signal: undefined, stdout: hit?.[1] ?? '', stderr: hit ? '' : 'not scripted', durationMs: 1 };
  };
  return {
    name,
    realism: 'real',
    ran,
    execute: async (command) => answer(command),
    succeed: async (command) => {
      const r = answer(command);
      if (r.exitCode !== 0) throw new Error(`scripted machine: ${command} failed`);
      return r.stdout;
    },
    fail: async () => '',
    waitUntilSucceeds: async (command) => answer(command).stdout,
  };
}

describe("web-arm's logs, found by its tier", () => {
  it('a real systemd: web-arm is its journal of this boot, a unit its lines, a container podman logs; read, never followed', async () => {
    const machine = scriptedMachine('web-arm', [
      ["podman ps -a --format '{{.Names}}'", 'rustdesk-server\ncollabora\n'],
      ['systemctl list-units', 'podman.service loaded active running Podman API\nv6egress-network.service loaded active exited\n'],
      ['journalctl -b', 'Dec 06 boot line\n'],
      ['podman logs', 'collabora says hi\n'],
    ]);
    const logs = journalLogs(machine);

    const whole = await logs.find('web-arm');
    expect(whole?.description).toMatch(/journal of this boot/);
    expect(await whole!.read(5)).toEqual([{ stream: 'stdout', text: 'Dec 06 boot line\n' }]);
    expect(machine.ran.at(-1)).toBe('journalctl -b --no-pager -o short-iso -n 5');

    const unit = await logs.find('v6egress-network');
    await unit!.read(undefined);
    expect(machine.ran.at(-1)).toBe("journalctl -b --no-pager -o short-iso -u 'v6egress-network.service'");

    const container = await logs.find('collabora');
    expect(await container!.read(1)).toEqual([{ stream: 'stdout', text: 'collabora says hi\n' }]);
    expect(machine.ran.at(-1)).toBe("podman logs --tail 1 'collabora'");

    expect(await logs.find('nothing-here')).toBeUndefined();
    expect(await logs.known()).toEqual(['web-arm', 'collabora (web-arm container)', 'rustdesk-server (web-arm container)', 'any web-arm unit']);
    expect(container!.followArgv).toBeUndefined();
    expect(() => followArgv(container!, 10)).toThrow(/--follow does not work here: .*--tail N/);
  });

  it("quotes what it passes to the guest's shell", () => {
    expect(journalCommand({ container: "it's" }, undefined)).toBe("podman logs 'it'\\''s'");
    expect(journalCommand({ unit: 'a b.service' }, 3)).toBe("journalctl -b --no-pager -o short-iso -u 'a b.service' -n 3");
  });

  it('the netns tier: unit log files (web-arm: every one, prefixed), followed with tail -F', async () => {
    const base = planLab(defaultConfig());
    const plan: LabPlan = { ...base, webArm: { ...base.webArm, runDir: join(dir, 'run'), etcDir: join(dir, 'etc'), apiSocket: join(dir, 'no-api.sock') } };
    mkdirSync(join(dir, 'run', 'log'), { recursive: true });
    writeFileSync(join(dir, 'run', 'log', 'podman.service.log'), 'api 1\napi 2\n');
    writeFileSync(join(dir, 'run', 'log', 'v6probe-http.service.log'), 'probe 1\n');
    const logs = netnsLogs(plan);

    const whole = await logs.find('web-arm');
    expect(await whole!.read(1)).toEqual([{ stream: 'stdout', text: 'podman.service: api 2\nv6probe-http.service: probe 1\n' }]);
    const unit = await logs.find('podman');
    expect(unit!.description).toContain('podman.service');
    expect(await unit!.read(undefined)).toEqual([{ stream: 'stdout', text: 'api 1\napi 2\n' }]);
    expect(followArgv(unit!, 3)).toEqual(['tail', '-n', '3', '-F', join(dir, 'run', 'log', 'podman.service.log')]);

    // An installed oneshot keeps no log: the message says so and points at its container's log.
    mkdirSync(join(dir, 'etc', 'systemd', 'system'), { recursive: true });
    writeFileSync(join(dir, 'etc', 'systemd', 'system', 'podman-v6probe.service'), '[Service]\nType=oneshot\n');
    await expect(logs.find('podman-v6probe')).rejects.toThrow(/keeps no log: it is a oneshot.*pnpm lab logs v6probe/);
    expect(await logs.find('nothing-here')).toBeUndefined();
    expect(await logs.known()).toEqual(['web-arm', 'podman.service (web-arm unit)', 'v6probe-http.service (web-arm unit)']);
  });
});
