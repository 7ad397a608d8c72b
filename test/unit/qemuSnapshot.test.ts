/**
 * The clean web-arm snapshot's pure parts: the command line that restores (-incoming), the key
 * (what makes two booted guests the same, and nothing else), meta.json, the QMP client's
 * protocol against a fake monitor, and how the lab records and shows the start.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCommon } from '../../lab/cli/options.ts';
import { renderBase } from '../../lab/lifecycle/apply.ts';
import { debianWebArm } from '../../lab/tiers/qemu/webArmSystem.ts';
import { baseUnitsToCheck } from '../../lab/tiers/qemu/guestStart.ts';
import { AgentDecoder } from '../../lab/tiers/qemu/agentProtocol.ts';
import { migrateFromFileUri, migrateToFileUri, qemuArgv, vmRunFiles, vmSpec, type VmSpecInputs } from '../../lab/tiers/qemu/argv.ts';
import { encodeQmpCommand, MigrationFailedError, migrationOutcome, parseMigrationInfo, QmpClient, QmpError, qmpMessageKind } from '../../lab/tiers/qemu/qmp.ts';
import {
  parseSnapshotMeta,
  partialSnapshotDir,
  partialSnapshotPid,
  renderSnapshotMeta,
  snapshotFilesMatch,
  snapshotKey,
  type SnapshotKeyInputs,
  snapshotMachineArgv,
  type SnapshotMeta,
  snapshotPaths,
} from '../../lab/tiers/qemu/snapshot.ts';
import { describeGuestStart, type GuestRecord } from '../../lab/state/store.ts';
import { defaultConfig } from '../../lab/topology/config.ts';
import { planLab } from '../../lab/topology/plan.ts';
import { validateConfig } from '../../lab/topology/validate.ts';

const inputs: VmSpecInputs = {
  name: 'web-arm',
  processName: 'v6lab-main-web-arm',
  arch: 'amd64',
  accel: 'tcg',
  memoryMiB: 1024,
  kernel: '/cache/qemu/h/vmlinuz',
  initrd: '/cache/qemu/h/initrd.img',
  runDir: '/run/v6lab/main/qemu/web-arm',
  tap: 'web-arm',
  mac: '96:00:02:c0:12:43',
};

describe('restoring with -incoming', () => {
  it('is the booting command line plus -incoming at the end, on both architectures', () => {
    for (const arch of ['amd64', 'arm64'] as const) {
      const boot = qemuArgv(arch, vmSpec({ ...inputs, arch }));
      const restore = qemuArgv(arch, vmSpec({ ...inputs, arch, incoming: migrateFromFileUri('/cache/snap/state.bin') }));
      expect(restore).toEqual([...boot, '-incoming', "exec:cat '/cache/snap/state.bin'"]);
      expect(boot).not.toContain('-incoming');
    }
  });

  it('writes and reads the state through a shell-quoted path (QEMU 7.2 has no file: URI)', () => {
    expect(migrateToFileUri('/c/snap/state.bin')).toBe("exec:cat > '/c/snap/state.bin'");
    expect(migrateFromFileUri("/c/it's/state.bin")).toBe("exec:cat '/c/it'\\''s/state.bin'");
  });

  it('keeps every file of a VM in its run directory', () => {
    const spec = vmSpec(inputs);
    const files = vmRunFiles(inputs.runDir);
    expect(spec).toMatchObject({ disk: files.disk, agentSocket: files.agentSocket, qmpSocket: files.qmpSocket, pidFile: files.pidFile, consoleLog: files.consoleLog });
    expect(Object.values(files).every((f) => f.startsWith(`${inputs.runDir}/`))).toBe(true);
    expect(spec.append).toBe('root=/dev/vda rw console=ttyS0 panic=-1 quiet systemd.show_status=error');
  });
});

describe('snapshot key', () => {
  const base: SnapshotKeyInputs = {
    imageHash: '89195b7859c2',
    arch: 'amd64',
    accel: 'tcg',
    qemuVersion: 'QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u18)',
    memoryMiB: 1024,
    mac: '96:00:02:c0:12:43',
    baseUnits: { 'collabora.service': '[Unit]\n', 'rustdesk-server.service': '[Unit]\n' },
    baseFiles: { 'sysctl.d/50-v6lab.conf': 'net.ipv6.conf.all.forwarding = 1\n', 'postfix/main.cf': 'x\n' },
    baseSettings: { dockerd: 'on' },
  };

  it('is 16 hex digits and the same for the same inputs, in any order', () => {
    const key = snapshotKey(base);
    expect(key).toMatch(/^[0-9a-f]{16}$/);
    const reordered: SnapshotKeyInputs = {
      ...base,
      baseUnits: Object.fromEntries(Object.entries(base.baseUnits).reverse()),
      baseFiles: Object.fromEntries(Object.entries(base.baseFiles).reverse()),
    };
    expect(snapshotKey(reordered)).toBe(key);
  });

  it('changes with the image, the base system, the machine and QEMU', () => {
    const key = snapshotKey(base);
    const changed: Array<Partial<SnapshotKeyInputs>> = [
      { imageHash: '000000000000' },
      { arch: 'arm64' },
      { accel: 'kvm' },
      { qemuVersion: 'QEMU emulator version 8.0.0' },
      { memoryMiB: 2048 },
      { mac: '96:00:02:c0:12:44' },
      { baseUnits: { ...base.baseUnits, 'collabora.service': '[Unit]\nDescription=changed\n' } },
      { baseFiles: { ...base.baseFiles, 'postfix/main.cf': 'y\n' } },
      { baseFiles: { ...base.baseFiles, 'extra.conf': '' } },
      { baseSettings: { dockerd: 'off' } },
    ];
    const keys = changed.map((c) => snapshotKey({ ...base, ...c }));
    expect(keys).not.toContain(key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('hashes the machine without any path or name of one lab', () => {
    const argv = snapshotMachineArgv('amd64', 'tcg', 1024, '96:00:02:c0:12:43');
    const text = argv.join(' ');
    expect(text).not.toMatch(/\/run\/|\/cache\/|v6lab-/);
    expect(text).toContain('-m 1024');
    expect(text).toContain('mac=96:00:02:c0:12:43');
    expect(text).toContain('-accel tcg,thread=single -cpu max,-cx16');
    expect(argv).not.toContain('-incoming');
  });

  it('does not depend on the lab: the base system renders the same for every lab name', () => {
    const render = (name: string) => {
      const config = validateConfig({ ...defaultConfig(), lab: { ...defaultConfig().lab, name, tier: 'qemu' } });
      return renderBase(debianWebArm(planLab(config)), config, 'localhost/v6lab-node:abc');
    };
    expect(render('sna')).toEqual(render('other1'));
  });

  it('checks dockerd after a restore when the base system runs it', () => {
    const plan = (enabled: boolean) =>
      planLab(validateConfig({ ...defaultConfig(), lab: { ...defaultConfig().lab, tier: 'qemu' }, webArm: { ...defaultConfig().webArm, docker: { enabled } } }));
    const on = baseUnitsToCheck(plan(true), 'img');
    expect(on).toContain('docker.service');
    expect(on).toContain('podman-collabora.service');
    expect(baseUnitsToCheck(plan(false), 'img')).not.toContain('docker.service');
  });
});

describe('snapshot files and meta.json', () => {
  const meta: SnapshotMeta = {
    schema: 'v6lab.qemu-snapshot/1',
    key: '0123456789abcdef',
    savedAt: '2025-11-23T18:00:00.000Z',
    savedBy: 'sn1',
    imageHash: '89195b7859c2',
    arch: 'amd64',
    accel: 'tcg',
    qemuVersion: 'QEMU emulator version 7.2.19',
    memoryMiB: 1024,
    stateBytes: 300_000_000,
    diskBytes: 200_000_000,
    saveMs: 3100,
    migrateMs: 2500,
    diskCopyMs: 600,
    bootToReadyMs: 61_000,
  };

  it('round-trips and checks the key', () => {
    expect(parseSnapshotMeta(renderSnapshotMeta(meta), meta.key)).toEqual({ ok: true, meta });
    const other = parseSnapshotMeta(renderSnapshotMeta(meta), 'fedcba9876543210');
    expect(other).toEqual({ ok: false, why: 'meta.json is of snapshot 0123456789abcdef, not fedcba9876543210' });
  });

  it('says why a meta.json is not usable', () => {
    expect(parseSnapshotMeta('{"schema": "v6lab.qemu-snapshot/1"', meta.key)).toMatchObject({ ok: false, why: expect.stringMatching(/^meta.json is not JSON/) });
    const { stateBytes: _, ...missing } = meta;
    expect(parseSnapshotMeta(JSON.stringify(missing), meta.key)).toMatchObject({ ok: false, why: expect.stringMatching(/^meta.json: stateBytes: /) });
    expect(parseSnapshotMeta(JSON.stringify({ ...meta, schema: 'v6lab.qemu-snapshot/0' }), meta.key).ok).toBe(false);
    expect(parseSnapshotMeta(JSON.stringify({ ...meta, surprise: 1 }), meta.key).ok).toBe(false);
    const { bootToReadyMs: __, ...noBoot } = meta;
    expect(parseSnapshotMeta(JSON.stringify(noBoot), meta.key).ok).toBe(true);
  });

  it('trusts the files only when their sizes are those recorded', () => {
    expect(snapshotFilesMatch(meta, { state: meta.stateBytes, disk: meta.diskBytes })).toBeUndefined();
    expect(snapshotFilesMatch(meta, { disk: meta.diskBytes })).toBe('state.bin is missing');
    expect(snapshotFilesMatch(meta, { state: 5, disk: meta.diskBytes })).toBe('state.bin has 5 bytes, meta.json says 300000000');
    expect(snapshotFilesMatch(meta, { state: meta.stateBytes, disk: 1 })).toMatch(/^disk.qcow2 has 1 bytes/);
  });

  it('keeps a snapshot in a directory of its key, written beside it under a name of the writing process', () => {
    expect(snapshotPaths('/c/snapshots', meta.key)).toEqual({
      dir: '/c/snapshots/0123456789abcdef',
      state: '/c/snapshots/0123456789abcdef/state.bin',
      disk: '/c/snapshots/0123456789abcdef/disk.qcow2',
      meta: '/c/snapshots/0123456789abcdef/meta.json',
      baselines: '/c/snapshots/0123456789abcdef/baselines.json',
    });
    const partial = partialSnapshotDir('/c/snapshots', meta.key, 4242);
    expect(partial).toBe('/c/snapshots/.0123456789abcdef.partial-4242');
    expect(partialSnapshotPid('.0123456789abcdef.partial-4242')).toBe(4242);
    expect(partialSnapshotPid('.0123456789abcdef.discarded-7')).toBe(7);
    expect(partialSnapshotPid('0123456789abcdef')).toBeUndefined();
  });
});

describe('QMP protocol', () => {
  it('frames commands with an id and tells greetings, events and answers apart', () => {
    expect(encodeQmpCommand('stop', 'v6lab-1').toString()).toBe('{"execute":"stop","id":"v6lab-1"}\r\n');
    expect(encodeQmpCommand('migrate', 'v6lab-2', { uri: 'exec:cat' }).toString()).toBe('{"execute":"migrate","arguments":{"uri":"exec:cat"},"id":"v6lab-2"}\r\n');
    expect(qmpMessageKind({ QMP: { version: {} } })).toBe('greeting');
    expect(qmpMessageKind({ event: 'STOP', timestamp: {} })).toBe('event');
    expect(qmpMessageKind({ return: {}, id: 'v6lab-1' })).toBe('answer');
    expect(qmpMessageKind({ error: { class: 'GenericError', desc: 'x' } })).toBe('answer');
  });

  it('reads query-migrate on both ends', () => {
    expect(parseMigrationInfo({})).toEqual({ status: 'none' });
    const done = parseMigrationInfo({ status: 'completed', 'total-time': 812, ram: { transferred: 301_000_000 } });
    expect(done).toEqual({ status: 'completed', totalTimeMs: 812, transferredBytes: 301_000_000 });
    expect(migrationOutcome(done)).toBe('done');
    expect(migrationOutcome(parseMigrationInfo({ status: 'active' }))).toBe('running');
    const failed = parseMigrationInfo({ status: 'failed', 'error-desc': 'Unknown ramblock "pc.ram"' });
    expect(failed.errorDesc).toBe('Unknown ramblock "pc.ram"');
    expect(migrationOutcome(failed)).toBe('failed');
  });
});

describe('QMP client against a fake monitor', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A monitor that greets, answers with ids, emits events between answers, and follows a migration script. */
  async function fakeMonitor(migration: string[], options: { closeOnQuery?: number } = {}) {
    dir = mkdtempSync(join(tmpdir(), 'v6lab-qmp-'));
    const path = join(dir, 'qmp.sock');
    const seen: string[] = [];
    const sockets: Socket[] = [];
    let queries = 0;
    const server = createServer((socket) => {
      sockets.push(socket);
      socket.write('{"QMP": {"version": {"qemu": {"major": 7, "minor": 2}}, "capabilities": ["oob"]}}\r\n');
      const decoder = new AgentDecoder();
      socket.on('data', (chunk) => {
        for (const message of decoder.push(chunk)) {
          if (message.kind !== 'response') continue;
          const request = message.value as { execute: string; id: string; arguments?: Record<string, unknown> };
          seen.push(request.execute);
          const answer = (body: string) => socket.write(`{"event": "RESUME", "timestamp": {"seconds": 1}}\r\n${body.replace(/}$/, `, "id": "${request.id}"}`)}\r\n`);
          if (request.execute === 'query-migrate') {
            queries++;
            if (options.closeOnQuery === queries) {
              socket.destroy();
              continue;
            }
            const status = migration[Math.min(queries - 1, migration.length - 1)]!;
            answer(`{"return": {"status": "${status}"${status === 'failed' ? ', "error-desc": "load of migration failed: Invalid argument"' : ''}}}`);
          } else if (request.execute === 'query-status') answer('{"return": {"status": "paused", "running": false}}');
          else if (request.execute === 'nope') answer('{"error": {"class": "CommandNotFound", "desc": "The command nope has not been found"}}');
          else answer('{"return": {}}');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return {
      path,
      seen,
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    };
  }

  it('negotiates, runs commands, skips events and reports errors', async () => {
    const monitor = await fakeMonitor(['completed']);
    const qmp = await QmpClient.connect('web-arm', monitor.path, 2_000);
    try {
      expect(await qmp.execute('stop')).toEqual({});
      expect(await qmp.status()).toEqual({ status: 'paused', running: false });
      await expect(qmp.execute('nope')).rejects.toThrow('[web-arm] QMP nope: CommandNotFound: The command nope has not been found');
      expect(monitor.seen).toEqual(['qmp_capabilities', 'stop', 'query-status', 'nope']);
    } finally {
      qmp.close();
      await monitor.close();
    }
  });

  it('waits for a migration to complete', async () => {
    const monitor = await fakeMonitor(['setup', 'active', 'active', 'completed']);
    const qmp = await QmpClient.connect('web-arm', monitor.path, 2_000);
    try {
      expect((await qmp.waitForMigration('loading state.bin', 5_000)).status).toBe('completed');
      expect(monitor.seen.filter((c) => c === 'query-migrate')).toHaveLength(4);
    } finally {
      qmp.close();
      await monitor.close();
    }
  });

  it('fails at once when the migration failed, with QEMU’s reason', async () => {
    const monitor = await fakeMonitor(['active', 'failed']);
    const qmp = await QmpClient.connect('web-arm', monitor.path, 2_000);
    const started = performance.now();
    try {
      const error = await qmp.waitForMigration('loading state.bin', 30_000).catch((e: unknown) => e);
      // A failed migration says the state cannot be loaded (the snapshot is discarded).
      expect(error).toBeInstanceOf(MigrationFailedError);
      expect((error as Error).message).toBe('[web-arm] loading state.bin: migration failed: load of migration failed: Invalid argument');
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      qmp.close();
      await monitor.close();
    }
  });

  it('fails at once when QEMU goes away during the wait', async () => {
    const monitor = await fakeMonitor(['active'], { closeOnQuery: 2 });
    const qmp = await QmpClient.connect('web-arm', monitor.path, 2_000);
    const started = performance.now();
    try {
      const error = await qmp.waitForMigration('loading state.bin', 30_000).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QmpError);
      expect(error).not.toBeInstanceOf(MigrationFailedError);
      expect((error as Error).message).toMatch(/QMP socket .* closed \(QEMU exited\?\)/);
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      qmp.close();
      await monitor.close();
    }
  });
});

describe('how web-arm came up', () => {
  const record: GuestRecord = { arch: 'x86_64', accel: 'tcg', accelWhy: 'no /dev/kvm', imageHash: 'h', kernelVersion: 'k', start: 'boot', bootToReadyMs: 61_234 };

  it('says boot or restore, with the times', () => {
    expect(describeGuestStart(record)).toBe('booted in 61.2 s');
    expect(describeGuestStart({ ...record, snapshotSaveMs: 3_140, snapshot: { key: 'abc', savedAt: '', stateBytes: 1 } })).toBe('booted in 61.2 s, snapshot abc saved in 3.1 s');
    expect(describeGuestStart({ ...record, restoreFailed: 'QEMU exited' })).toBe('booted in 61.2 s (the restore failed)');
    const restored: GuestRecord = { ...record, start: 'restore', bootToReadyMs: undefined, restoreMs: 4_200, snapshot: { key: 'abc', savedAt: '', stateBytes: 1 } };
    expect(describeGuestStart(restored)).toBe('restored from snapshot abc in 4.2 s');
  });

  it('--no-snapshot on lab up is lab.snapshot=false; other verbs do not take it', () => {
    const up = (args: string[]) => parseCommon(args, { 'no-snapshot': { type: 'boolean' } }).config.lab.snapshot;
    expect(up([])).toBe(true);
    expect(up(['--no-snapshot'])).toBe(false);
    expect(up(['--set', 'lab.snapshot=false'])).toBe(false);
    expect(() => parseCommon(['--no-snapshot'])).toThrow(/Unknown option '--no-snapshot'/);
  });
});
