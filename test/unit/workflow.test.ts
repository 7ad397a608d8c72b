/**
 * The nightly workflow cannot run here: this checks its structure, and that every command it
 * calls exists (pnpm scripts in package.json, lab verbs in lab/cli/verbs.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { VERBS } from '../../lab/cli/verbs.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const WORKFLOW_FILE = join(ROOT, '.github', 'workflows', 'nightly.yml');
const text = readFileSync(WORKFLOW_FILE, 'utf8');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  'continue-on-error'?: boolean;
}
interface Job {
  'runs-on': string;
  steps: Step[];
  'timeout-minutes'?: number;
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
}

const workflow = parse(text) as Workflow;
const jobs = Object.values(workflow.jobs);
const steps = jobs.flatMap((j) => j.steps);
const scripts = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
/** pnpm's own commands the workflow may call (not package.json scripts). */
const PNPM_BUILTINS = ['install'];

/** Every `pnpm …` invocation in the run steps, as argv (up to the end of the command). */
function pnpmCalls(): string[][] {
  const calls: string[][] = [];
  for (const step of steps) {
    for (const line of (step.run ?? '').split('\n')) {
      for (const m of line.matchAll(/(?:^|[\s;&|(])pnpm((?:\s+[^\s;&|)]+)+)/g)) calls.push(m[1]!.trim().split(/\s+/));
    }
  }
  return calls;
}

function stepRunning(pattern: RegExp): Step {
  const step = steps.find((s) => pattern.test(s.run ?? ''));
  expect(step, `a step running ${pattern}`).toBeDefined();
  return step!;
}

/** The apt package list of a shell script's `apt-get install` (continuation lines joined). */
/** Every package of every apt-get install line (a shell variable stands for what it is set to on an ARM machine). */
function aptPackages(script: string, variables: Record<string, string> = {}): string[] {
  const joined = script.replace(/\\\n/g, ' ');
  const lines = [...joined.matchAll(/apt-get install ([^\n>]*)/g)];
  expect(lines.length, 'an apt-get install line').toBeGreaterThan(0);
  return lines
    .flatMap((m) => m[1]!.split(/\s+/))
    .map((w) => variables[w] ?? w)
    .filter((w) => w !== '' && !w.startsWith('-'))
    .sort();
}

describe('.github/workflows/nightly.yml', () => {
  it('runs nightly on a schedule and by hand', () => {
    expect(workflow.on).toHaveProperty('workflow_dispatch');
    const schedule = workflow.on.schedule as Array<{ cron: string }>;
    expect(Array.isArray(schedule) && schedule.length).toBeTruthy();
    expect(schedule[0]!.cron.split(' ')).toHaveLength(5);
  });

  it('runs on the ARM runner with a timeout', () => {
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) {
      expect(job['runs-on']).toBe('ubuntu-24.04-arm');
      expect(job['timeout-minutes']).toBeGreaterThan(0);
    }
  });

  it('installs the same host packages as .ci/run', () => {
    const ciRun = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    // The runner is ARM: .ci/run's "$qemu_system" is qemu-system-arm there.
    // Ubuntu 24.04 (the runner) has no vagrant package, and its chromium is a snap (the runner
    // has Google Chrome instead): only .ci/run (Debian) installs them.
    const debianOnly = ['vagrant', 'chromium'];
    expect(aptPackages(stepRunning(/apt-get install/).run!)).toEqual(aptPackages(ciRun, { '"$qemu_system"': 'qemu-system-arm' }).filter((p) => !debianOnly.includes(p)));
    expect(aptPackages(ciRun)).toContain('vagrant');
  });

  it('sets up Node and pnpm with setup.sh, as README and .ci/run do (no other way)', () => {
    const uses = steps.map((s) => s.uses ?? '');
    expect(uses.some((u) => u.startsWith('actions/checkout@'))).toBe(true);
    expect(uses.some((u) => u.startsWith('pnpm/action-setup@') || u.startsWith('actions/setup-node@'))).toBe(false);
    const setup = stepRunning(/^sh setup\.sh$/m);
    expect(steps.indexOf(setup)).toBeLessThan(steps.indexOf(stepRunning(/pnpm test:unit/)));
    expect(readFileSync(join(ROOT, '.ci', 'run'), 'utf8')).toMatch(/^sh setup\.sh$/m);
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toMatch(/^sh setup\.sh && pnpm lab up && pnpm lab test /m);
    expect(readFileSync(join(ROOT, 'setup.sh'), 'utf8')).toContain('pnpm install --frozen-lockfile');
  });

  it('brings the netns tier up as root, tests it, and always takes it down', () => {
    const order = ['lab up', 'lab test', 'lab down'].map((verb) => {
      const step = stepRunning(new RegExp(`sudo .*pnpm ${verb}$`, 'm'));
      return steps.indexOf(step);
    });
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(steps[order[2]!]!.if).toBe('always()');
  });

  it('runs the qemu tier with an aarch64 guest (the arch of web-arm) and always takes it down', () => {
    const qemu = stepRunning(/pnpm lab up .*--host qemu --arch aarch64/);
    expect(qemu['continue-on-error']).toBeUndefined();
    expect(qemu.run).toMatch(/pnpm lab test --name (\w+) --host qemu --arch aarch64/);
    const name = /--name (\w+)/.exec(qemu.run!)![1]!;
    const down = stepRunning(new RegExp(`pnpm lab down --name ${name}`));
    expect(down.if).toBe('always()');
  });

  it('uploads reports, pcaps and bench results, hidden .lab included, even after a failure', () => {
    const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(upload).toBeDefined();
    expect(upload!.if).toBe('always()');
    expect(upload!.with?.['include-hidden-files']).toBe(true);
    const paths = String(upload!.with?.path).split('\n').map((p) => p.trim()).filter(Boolean);
    expect(paths).toContain('.lab/*/reports');
    expect(paths.some((p) => p.endsWith('.pcap'))).toBe(true);
    expect(paths).toContain('bench/results');
  });

  it("appends the lab's Markdown report to the job summary, even after a failure", () => {
    const summary = stepRunning(/GITHUB_STEP_SUMMARY/);
    expect(summary.if).toBe('always()');
    expect(summary.run).toContain('cat .lab/main/reports/latest.md >> "$GITHUB_STEP_SUMMARY"');
  });

  it('calls only pnpm scripts that package.json has and lab verbs that lab/cli/verbs.ts registers', () => {
    const calls = pnpmCalls();
    expect(calls.length).toBeGreaterThan(5);
    for (const [command, verb] of calls) {
      expect([...scripts, ...PNPM_BUILTINS], `pnpm ${command}`).toContain(command);
      if (command === 'lab') expect(Object.keys(VERBS), `pnpm lab ${verb}`).toContain(verb);
    }
    // Everything the issue asks the nightly to run is there.
    const called = calls.map(([c, v]) => (c === 'lab' ? `lab ${v}` : c!));
    for (const needed of ['lab up', 'lab test', 'lab down', 'bench']) expect(called).toContain(needed);
  });
});
