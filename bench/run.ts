#!/usr/bin/env node
/**
 * `pnpm bench`: measures issue 19's targets in one run and prints each with its value and met /
 * not met (reported, never asserted). netns: `lab up`, `lab test`, `lab down` under a lab name of
 * its own, per scenario wall time, and where the time went (commands, deliberate waits,
 * framework overhead; every lab process logs its intervals to a time log, lab/timeLog.ts), then
 * the floor (bench/floor.ts). `--host qemu`: a warm up on the clean snapshot (design applied),
 * a warm up of that design seen before (the design-applied snapshot), `--suite` the whole suite,
 * a real reboot with systemd-analyze's profile of that boot, `lab down`, and `--compare` the
 * four-design compare. Writes bench/results/<time>.json (schema v6lab.bench/2) and .md.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exitCodeOf, LabError, UsageError } from '../lab/errors.ts';
import { onCommand, run } from '../lab/exec.ts';
import { assertRoot } from '../lab/host/packages.ts';
import { createProgress, type Progress } from '../lab/progress.ts';
import type { RunReport } from '../lab/report/model.ts';
import type { GuestRecord } from '../lab/state/store.ts';
import { accountTime, parseTimeLog, sumAccounts, type TimeAccount } from '../lab/timeAccount.ts';
import { epochNow, TIME_LOG_ENV } from '../lab/timeLog.ts';
import { parseAnalyzeTime, parseBlame, parseChainReached, parseCriticalChain, type BootProfile } from './bootProfile.ts';
import { runFloor } from './floor.ts';
import { COMPARE_DESIGNS, renderTable, targetsOf, type BenchResult, type LabStep, type QemuUp, type ScenarioTime } from './report.ts';
import { LAB_CLI } from '../lab/cli/entry.ts';

const ROOT = join(import.meta.dirname, '..');

const USAGE = 'pnpm bench [--host netns|qemu] [--name NAME] [--only full|floor] [--suite] [--compare] [--json] [--verbose]';

const HELP = [
  'Measures the lab and prints every target with its value and met / not met (README: Bench).',
  '  (no flags)          netns: lab up, lab test, lab down of a lab of its own, and the floor',
  '  --host qemu         qemu: warm up (clean snapshot, then a design seen before), a real reboot, lab down',
  '  --suite             with --host qemu: lab test of the whole suite',
  '  --compare           with --host qemu: lab compare of the four designs',
  '  --only full|floor   netns: one half only',
  '  --name NAME         the bench\'s lab (default bench);  --json: the result on stdout;  --verbose, -v: every command',
  'Example: pnpm bench --host qemu --suite',
].join('\n');

interface LabRun extends LabStep {
  stdout: string;
  time: TimeAccount;
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        host: { type: 'string', default: 'netns' },
        name: { type: 'string', default: 'bench' },
        only: { type: 'string' },
        suite: { type: 'boolean' },
        compare: { type: 'boolean' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}. Usage: ${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`Usage: ${USAGE}\n\n${HELP}\n`);
    return 0;
  }
  if (values.host !== 'netns' && values.host !== 'qemu') throw new UsageError(`--host: expected netns or qemu, got "${values.host}". Usage: ${USAGE}`);
  if (values.only !== undefined && values.only !== 'full' && values.only !== 'floor') throw new UsageError(`--only: expected full or floor. Usage: ${USAGE}`);
  if ((values.suite || values.compare) && values.host !== 'qemu') throw new UsageError(`--suite and --compare measure the qemu tier: add --host qemu. Usage: ${USAGE}`);
  if (!/^[a-z0-9]+$/.test(values.name) || values.name === 'main') throw new UsageError('--name: lowercase letters and digits, not "main" (the bench brings its own lab up and down)');
  assertRoot();
  if (values.verbose) onCommand((e) => process.stderr.write(`  $ ${e.command}  [exit ${e.exitCode ?? 'bg'}, ${e.durationMs} ms]\n`));

  const progress = createProgress();
  const result: BenchResult = {
    schema: 'v6lab.bench/2',
    startedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, arch: arch(), kernel: release(), node: process.version },
    lab: values.name,
    targets: [],
  };
  const logDir = mkdtempSync(join(tmpdir(), 'v6lab-bench-'));
  let logs = 0;
  /** One lab verb, timed from here, with its processes' time log accounted. */
  const lab = async (verb: string, ...args: string[]): Promise<LabRun> => {
    const log = join(logDir, `${++logs}-${verb}.jsonl`);
    writeFileSync(log, '');
    const startedEpoch = epochNow();
    const started = performance.now();
    const nameArgs = verb === 'compare' ? [] : ['--name', values.name];
    const r = await run([process.execPath, LAB_CLI, verb, ...nameArgs, ...args], { allowFailure: true, timeoutMs: 90 * 60_000, selfTimed: true, env: { [TIME_LOG_ENV]: log } });
    const ms = Math.round(performance.now() - started);
    if (r.exitCode !== 0 && verb !== 'test') progress.note(`lab ${verb} exited ${r.exitCode}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    const time = accountTime(parseTimeLog(readFileSync(log, 'utf8')), ms, [startedEpoch, epochNow()]);
    return { ms, exitCode: r.exitCode, stdout: r.stdout, time };
  };

  try {
    if (values.host === 'qemu') await benchQemu(result, lab, progress, { suite: Boolean(values.suite), compare: Boolean(values.compare), name: values.name });
    else {
      if (values.only !== 'floor') await benchNetns(result, lab, progress, values.name);
      if (values.only !== 'full') {
        result.floor = await progress.step('floor: namespaces + podman network + one container + one GET (bench/floor.ts)', () => runFloor());
      }
      if (result.full && result.floor) result.ratio = result.full.totalMs / result.floor.totalMs;
    }
  } finally {
    rmSync(logDir, { recursive: true, force: true });
  }
  result.targets = targetsOf(result);
  const file = writeResult(result);
  process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${renderTable(result)}\nresults: ${file}\n`);
  const broke =
    (result.full && (result.full.up.exitCode !== 0 || result.full.down.exitCode !== 0)) || (result.qemu && (result.qemu.up.exitCode !== 0 || result.qemu.down.exitCode !== 0));
  return broke ? 70 : 0;
}

type Lab = (verb: string, ...args: string[]) => Promise<LabRun>;

function scenarioTimes(report: RunReport | undefined): ScenarioTime[] | undefined {
  return report?.scenarios.map((s) => ({ id: s.id, status: s.status, ms: s.durationMs }));
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

async function benchNetns(result: BenchResult, lab: Lab, progress: Progress, name: string): Promise<void> {
  await progress.step(`make sure lab "${name}" is down (not measured)`, () => lab('down'));
  const up = await progress.step('full: lab up', () => lab('up'));
  const test = await progress.step('full: lab test', () => lab('test', '--json'));
  const down = await progress.step('full: lab down', () => lab('down'));
  const report = parseJson<RunReport>(test.stdout);
  result.full = {
    up: { ms: up.ms, exitCode: up.exitCode },
    test: { ms: test.ms, exitCode: test.exitCode, totals: report?.totals },
    down: { ms: down.ms, exitCode: down.exitCode },
    totalMs: up.ms + test.ms + down.ms,
    time: { up: up.time, test: test.time, down: down.time, total: sumAccounts([up.time, test.time, down.time]) },
    ...(report ? { scenarios: scenarioTimes(report)! } : {}),
  };
}

function qemuUpOf(step: LabRun): QemuUp & { guest?: GuestRecord } {
  const guest = parseJson<{ state: { guest?: GuestRecord } }>(step.stdout)?.state.guest;
  const up: QemuUp & { guest?: GuestRecord } = { ms: step.ms, exitCode: step.exitCode };
  if (!guest) return up;
  up.guest = guest;
  up.start = guest.start === 'restore' ? (guest.designApplied ? 'restore-applied' : 'restore') : 'boot';
  if (guest.restoreMs !== undefined) up.restoreMs = guest.restoreMs;
  if (guest.bootToReadyMs !== undefined) up.bootToReadyMs = guest.bootToReadyMs;
  if (guest.appliedSnapshot) up.savedApplied = true;
  return up;
}

function strip(up: QemuUp & { guest?: GuestRecord }): QemuUp {
  const { guest: _guest, ...rest } = up;
  return rest;
}

async function benchQemu(result: BenchResult, lab: Lab, progress: Progress, options: { suite: boolean; compare: boolean; name: string }): Promise<void> {
  const time: Record<string, TimeAccount> = {};
  await progress.step(`make sure lab "${options.name}" is down (not measured)`, () => lab('down'));
  // 1. Warm up on the clean web-arm snapshot: restored, then the design applied (nothing kept).
  const cleanRun = await progress.step('qemu: lab up --host qemu --no-design-snapshot (clean snapshot, design applied)', () => lab('up', '--host', 'qemu', '--no-design-snapshot', '--json'));
  const cleanUp = qemuUpOf(cleanRun);
  time['lab up (clean snapshot)'] = cleanRun.time;
  await progress.step('qemu: lab down (not measured)', () => lab('down'));
  // 2. Warm up of a design seen before: the design-applied snapshot. The first time it is saved, then restored by a second up.
  let designRun = await progress.step('qemu: lab up --host qemu (a design seen before)', () => lab('up', '--host', 'qemu', '--json'));
  let designUp = qemuUpOf(designRun);
  if (designUp.exitCode === 0 && designUp.start !== 'restore-applied') {
    progress.note(`this up ${designUp.savedApplied ? 'saved the design-applied snapshot' : 'did not restore a design-applied snapshot'}: down and up again`);
    await progress.step('qemu: lab down (not measured)', () => lab('down'));
    designRun = await progress.step('qemu: lab up --host qemu (a design seen before, again)', () => lab('up', '--host', 'qemu', '--json'));
    designUp = qemuUpOf(designRun);
  }
  time['lab up (design seen before)'] = designRun.time;
  const guest = designUp.guest ?? cleanUp.guest;
  let suite: NonNullable<BenchResult['qemu']>['suite'];
  if (options.suite && designUp.exitCode === 0) {
    const test = await progress.step('qemu: lab test (whole suite, both real reboots)', () => lab('test', '--json'));
    const report = parseJson<RunReport>(test.stdout);
    suite = { ms: test.ms, exitCode: test.exitCode, ...(report ? { totals: report.totals, scenarios: scenarioTimes(report)! } : {}), time: test.time };
    time['lab test (suite)'] = test.time;
  }
  const reboot = await progress.step('qemu: lab reboot (real)', () => lab('reboot', '--json'));
  const rebootMs = reboot.exitCode === 0 ? parseJson<{ durationMs: number }>(reboot.stdout)?.durationMs : undefined;
  time['lab reboot'] = reboot.time;
  let boot: BootProfile | undefined;
  if (reboot.exitCode === 0) {
    boot = await progress.step('qemu: that boot as systemd saw it (systemd-analyze, blame, critical-chain)', async () => {
      const analyze = await lab('exec', 'web-arm', '--', 'systemd-analyze time');
      const blame = await lab('exec', 'web-arm', '--', 'systemd-analyze blame --no-pager');
      const chain = await lab('exec', 'web-arm', '--', 'systemd-analyze critical-chain --no-pager multi-user.target');
      // "multi-user.target reached after …" is printed only when it is the default target: else the chain says when.
      const time = parseAnalyzeTime(analyze.stdout);
      const reached = time.multiUserMs ?? parseChainReached(chain.stdout);
      return { ...time, ...(reached !== undefined ? { multiUserMs: reached } : {}), blame: parseBlame(blame.stdout, 12), criticalChain: parseCriticalChain(chain.stdout, 25) };
    });
  }
  const down = await progress.step('qemu: lab down', () => lab('down'));
  time['lab down'] = down.time;
  let compare: NonNullable<BenchResult['qemu']>['compare'];
  if (options.compare) {
    const c = await progress.step(`qemu: lab compare --host qemu ${COMPARE_DESIGNS.join(' ')}`, () => lab('compare', '--host', 'qemu', ...COMPARE_DESIGNS, '--json'));
    compare = { ms: c.ms, exitCode: c.exitCode, designs: [...COMPARE_DESIGNS] };
    time['lab compare'] = c.time;
  }
  result.qemu = {
    arch: guest?.arch ?? '?',
    accel: guest?.accel ?? '?',
    up: strip(designUp),
    bootToReadyMs: guest?.bootToReadyMs ?? 0,
    cleanUp: strip(cleanUp),
    reboot: { ms: reboot.ms, exitCode: reboot.exitCode, ...(rebootMs !== undefined ? { rebootMs } : {}) },
    ...(boot ? { boot } : {}),
    down: { ms: down.ms, exitCode: down.exitCode },
    ...(suite ? { suite } : {}),
    ...(compare ? { compare } : {}),
    time,
  };
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
