#!/usr/bin/env node
/**
 * `pnpm bench`: measures, in one run, the netns tier's `lab up`, `lab test` and `lab down`
 * (under a lab name of its own) and the floor (bench/floor.ts: the same kind of work done
 * by a minimal raw script), then prints a table, the ratio full/floor and whether the
 * issue's targets are met, and writes bench/results/<time>.json (and .md, for a CI summary).
 * Targets are reported, never asserted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exitCodeOf, LabError, UsageError } from '../lab/errors.ts';
import { onCommand, run } from '../lab/exec.ts';
import { assertRoot } from '../lab/host/packages.ts';
import { createProgress } from '../lab/progress.ts';
import type { RunReport } from '../lab/report/model.ts';
import { runFloor } from './floor.ts';
import { renderTable, targetsOf, type BenchResult, type LabStep } from './report.ts';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'lab', 'cli', 'main.ts');

const USAGE = 'pnpm bench [--host netns|qemu] [--name NAME] [--only full|floor] [--json] [--verbose]';

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        host: { type: 'string', default: 'netns' },
        name: { type: 'string', default: 'bench' },
        only: { type: 'string' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
      },
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}. Usage: ${USAGE}`);
  }
  if (values.host !== 'netns' && values.host !== 'qemu') throw new UsageError(`--host: expected netns or qemu, got "${values.host}". Usage: ${USAGE}`);
  if (values.only !== undefined && values.only !== 'full' && values.only !== 'floor') throw new UsageError(`--only: expected full or floor. Usage: ${USAGE}`);
  if (!/^[a-z0-9]+$/.test(values.name) || values.name === 'main') throw new UsageError('--name: lowercase letters and digits, not "main" (the bench brings its own lab up and down)');
  assertRoot();
  if (values.verbose) onCommand((e) => process.stderr.write(`  $ ${e.command}  [exit ${e.exitCode ?? 'bg'}, ${e.durationMs} ms]\n`));

  const progress = createProgress();
  const result: BenchResult = {
    schema: 'v6lab.bench/1',
    startedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, arch: arch(), kernel: release(), node: process.version },
    lab: values.name,
    targets: [],
  };
  const lab = async (verb: string, ...args: string[]): Promise<LabStep & { stdout: string }> => {
    const started = performance.now();
    const r = await run([process.execPath, CLI, verb, '--name', values.name, ...args], { allowFailure: true, timeoutMs: 30 * 60_000 });
    const ms = Math.round(performance.now() - started);
    if (r.exitCode !== 0) progress.note(`lab ${verb} exited ${r.exitCode}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return { ms, exitCode: r.exitCode, stdout: r.stdout };
  };

  if (values.only !== 'floor' && values.host === 'netns') {
    await progress.step(`make sure lab "${values.name}" is down (not measured)`, () => lab('down'));
    const up = await progress.step('full: lab up', () => lab('up'));
    const test = await progress.step('full: lab test', () => lab('test', '--json'));
    const down = await progress.step('full: lab down', () => lab('down'));
    let totals: RunReport['totals'] | undefined;
    try {
      totals = (JSON.parse(test.stdout) as RunReport).totals;
    } catch {
      totals = undefined;
    }
    result.full = {
      up: { ms: up.ms, exitCode: up.exitCode },
      test: { ms: test.ms, exitCode: test.exitCode, totals },
      down: { ms: down.ms, exitCode: down.exitCode },
      totalMs: up.ms + test.ms + down.ms,
    };
  }
  if (values.host === 'qemu') {
    // The qemu tier's own times: boot to ready (from lab up) and a real reboot. A cold boot
    // always (--no-snapshot): a restored guest would not measure the boot.
    await progress.step(`make sure lab "${values.name}" is down (not measured)`, () => lab('down'));
    const up = await progress.step('qemu: lab up --host qemu --no-snapshot', () => lab('up', '--host', 'qemu', '--no-snapshot', '--json'));
    const guest = up.exitCode === 0 ? (JSON.parse(up.stdout) as { state: { guest?: { arch: string; accel: string; bootToReadyMs: number } } }).state.guest : undefined;
    const reboot = await progress.step('qemu: lab reboot', () => lab('reboot', '--json'));
    const rebootMs = reboot.exitCode === 0 ? (JSON.parse(reboot.stdout) as { durationMs: number }).durationMs : undefined;
    const down = await progress.step('qemu: lab down', () => lab('down'));
    result.qemu = {
      arch: guest?.arch ?? '?',
      accel: guest?.accel ?? '?',
      up: { ms: up.ms, exitCode: up.exitCode },
      bootToReadyMs: guest?.bootToReadyMs ?? 0,
      reboot: { ms: reboot.ms, exitCode: reboot.exitCode, ...(rebootMs !== undefined ? { rebootMs } : {}) },
      down: { ms: down.ms, exitCode: down.exitCode },
    };
    result.targets = targetsOf(result);
    const file = writeResult(result);
    process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${renderTable(result)}\nresults: ${file}\n`);
    return up.exitCode !== 0 || down.exitCode !== 0 ? 70 : 0;
  }
  if (values.only !== 'full') {
    result.floor = await progress.step('floor: namespaces + podman network + one container + one GET (bench/floor.ts)', () => runFloor());
  }
  if (result.full && result.floor) result.ratio = result.full.totalMs / result.floor.totalMs;
  result.targets = targetsOf(result);

  const file = writeResult(result);
  process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${renderTable(result)}\nresults: ${file}\n`);
  const broke = result.full && (result.full.up.exitCode !== 0 || result.full.down.exitCode !== 0);
  return broke ? 70 : 0;
}

function writeResult(r: BenchResult): string {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stem = join(dir, r.startedAt.replace(/[:.]/g, '-'));
  writeFileSync(`${stem}.json`, `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(`${stem}.md`, renderTable(r));
  return `${stem}.json`;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const label = error instanceof LabError ? error.code : 'E_BUG';
    process.stderr.write(`\nv6lab bench: ${label}: ${error instanceof Error ? error.message : String(error)}\n`);
    if (!(error instanceof LabError) && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    process.exitCode = exitCodeOf(error);
  },
);
