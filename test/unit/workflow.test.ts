/**
 * The nightly workflow cannot run here: this checks its structure (plan → cells → merge, the
 * NixOS jobs, the runner labels, artifacts and caches) and that every command it calls exists
 * (pnpm scripts in package.json, lab verbs in lab/cli/verbs.ts and the flags their help names).
 * The plan commands it runs are run here too, to see the cells and runners they give.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { CellPlan } from '../../lab/compare/plan.ts';
import { renderVerbHelp } from '../../lab/cli/usage.ts';
import { VERBS } from '../../lab/cli/verbs.ts';
import { LAB_CLI } from '../../lab/cli/entry.ts';
import { run } from '../../lab/exec.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = LAB_CLI;

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  'continue-on-error'?: boolean;
}
interface Job {
  name?: string;
  'runs-on': string;
  needs?: string | string[];
  if?: string;
  outputs?: Record<string, string>;
  strategy?: { 'fail-fast'?: boolean; matrix?: unknown };
  'continue-on-error'?: boolean;
  steps: Step[];
  'timeout-minutes'?: number;
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}
interface Action {
  inputs?: Record<string, { default?: string }>;
  runs: { using: string; steps: Step[] };
}

const workflow = parse(readFileSync(join(ROOT, '.github', 'workflows', 'nightly.yml'), 'utf8')) as Workflow;
const jobs = workflow.jobs;

/** A local action's steps (`uses: ./.github/actions/<name>`). */
function localAction(uses: string): Action {
  return parse(readFileSync(join(ROOT, uses, 'action.yml'), 'utf8')) as Action;
}

/** A job's steps with its local actions' steps in their place. */
function stepsOf(job: Job): Step[] {
  return job.steps.flatMap((s) => (s.uses?.startsWith('./') ? [s, ...localAction(s.uses).runs.steps] : [s]));
}
const allSteps = Object.values(jobs).flatMap(stepsOf);

const needsOf = (job: Job) => (job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs]);
const scripts = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
/** pnpm's own commands the workflow may call (not package.json scripts). */
const PNPM_BUILTINS = ['install'];

/** Every `pnpm …` invocation in run steps, as argv (pnpm's own -s dropped), shell quotes removed. */
function pnpmCalls(steps: readonly Step[] = allSteps): string[][] {
  const calls: string[][] = [];
  for (const step of steps) {
    for (const line of (step.run ?? '').split('\n')) {
      for (const m of line.matchAll(/(?:^|[\s;&|(])pnpm((?:\s+[^\s;&|)>]+)+)/g)) {
        calls.push(m[1]!.trim().split(/\s+/).filter((a) => a !== '-s').map((a) => a.replace(/^"(.*)"$/, '$1')));
      }
    }
  }
  return calls;
}

function stepRunning(steps: readonly Step[], pattern: RegExp): Step {
  const step = steps.find((s) => pattern.test(s.run ?? ''));
  expect(step, `a step running ${pattern}`).toBeDefined();
  return step!;
}

/** Every package of every apt-get install line (a shell variable stands for what it is set to). */
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

const uploads = (job: Job) => job.steps.filter((s) => s.uses?.startsWith('actions/upload-artifact@'));

describe('.github/workflows/nightly.yml', () => {
  it('runs nightly on a schedule and by hand', () => {
    expect(workflow.on).toHaveProperty('workflow_dispatch');
    const schedule = workflow.on.schedule as Array<{ cron: string }>;
    expect(Array.isArray(schedule) && schedule.length).toBeTruthy();
    expect(schedule[0]!.cron.split(' ')).toHaveLength(5);
  });

  it('is plan → cells → merge: the matrix from the plan job\'s output, fail-fast off, the merge after every cell', () => {
    const { plan, cells, merge } = jobs;
    expect(plan && cells && merge).toBeTruthy();
    const planStep = stepRunning(plan!.steps, /pnpm -s lab compare --plan /);
    expect(planStep.id).toBe('plan');
    expect(planStep.run).toContain('>> "$GITHUB_OUTPUT"');
    expect(plan!.outputs).toEqual({ matrix: '${{ steps.plan.outputs.matrix }}', nixos: '${{ steps.plan.outputs.nixos }}' });
    expect(needsOf(cells!)).toEqual(['plan']);
    expect(cells!.strategy?.['fail-fast']).toBe(false);
    expect(cells!.strategy?.matrix).toBe('${{ fromJSON(needs.plan.outputs.matrix) }}');
    expect(cells!['runs-on']).toBe('${{ matrix.runner }}');
    expect(needsOf(merge!)).toEqual(expect.arrayContaining(['plan', 'cells', 'nixos']));
    // A failed cell must not stop the merge: it shows as missing or not run.
    expect(merge!.if).toBe('${{ !cancelled() }}');
  });

  it('each cell runs `lab compare --cell` of its matrix entry into a directory it uploads, even after a failure', () => {
    for (const name of ['cells', 'nixos']) {
      const job = jobs[name]!;
      const cell = stepRunning(job.steps, /pnpm lab compare --cell /);
      expect(cell.run).toMatch(/^sudo -E env "PATH=\$PATH" pnpm lab compare --cell "\$\{\{ matrix\.id \}\}" --out "cell\/\$\{\{ matrix\.id \}\}" --name \w+$/);
      const [upload] = uploads(job);
      expect(upload?.if).toBe('always()');
      expect(upload?.with?.name).toBe('cell-${{ matrix.id }}');
      expect(upload?.with?.path).toBe('cell/');
    }
  });

  it('uploads the plans, and the merge downloads every artifact, merges that directory, fails on a flagged or missing cell, and writes the matrix to the job summary', () => {
    const [planUpload] = uploads(jobs.plan!);
    expect(String(planUpload?.with?.path).split('\n').map((p) => p.trim()).filter(Boolean)).toEqual(['plan/plan.json', 'plan-nixos/plan.json']);
    const merge = jobs.merge!;
    const download = merge.steps.find((s) => s.uses?.startsWith('actions/download-artifact@'));
    expect(download?.with?.name, 'every artifact, not one').toBeUndefined();
    const dir = String(download?.with?.path);
    const mergeStep = stepRunning(merge.steps, /pnpm lab compare --merge /);
    expect(mergeStep.run).toBe(`pnpm lab compare --merge ${dir} --out merged`);
    expect(mergeStep['continue-on-error']).toBeUndefined();
    expect(merge['continue-on-error']).toBeUndefined();
    const summary = stepRunning(merge.steps, /GITHUB_STEP_SUMMARY/);
    expect(summary.if).toBe('always()');
    expect(summary.run).toContain('cat merged/matrix.md >> "$GITHUB_STEP_SUMMARY"');
    expect(merge.steps.indexOf(summary)).toBeGreaterThan(merge.steps.indexOf(mergeStep));
    expect(uploads(merge)[0]?.if).toBe('always()');
  });

  it('runs aarch64 cells on ubuntu-24.04-arm and x86_64 cells on ubuntu-24.04: the plan commands it runs, run here', async () => {
    const planLines = stepRunning(jobs.plan!.steps, /--plan/).run!.split('\n').filter((l) => l.includes('--plan'));
    expect(planLines).toHaveLength(2);
    const plans = await Promise.all(
      planLines.map(async (line) => {
        const args = line.replace(/^\s*pnpm -s lab /, '').replace(/\s*>.*$/, '').split(/\s+/);
        const r = await run([process.execPath, CLI, ...args], { allowFailure: true, timeoutMs: 60_000 });
        expect(r.exitCode, `${line}: ${r.stderr}`).toBe(0);
        return JSON.parse(r.stdout) as CellPlan;
      }),
    );
    const [main, nixos] = plans as [CellPlan, CellPlan];
    for (const cell of [...main.include, ...nixos.include]) expect(cell.runner).toBe(cell.arch === 'aarch64' ? 'ubuntu-24.04-arm' : 'ubuntu-24.04');
    expect(new Set(main.include.map((c) => c.arch))).toEqual(new Set(['x86_64', 'aarch64']));
    expect(new Set(main.include.map((c) => c.tier))).toEqual(new Set(['netns', 'qemu']));
    expect(nixos.include.length).toBeGreaterThan(0);
    expect(nixos.include.every((c) => c.guest === 'nixos' && c.design === 'v6egress' && c.allowFailure)).toBe(true);
    // Every job that is not a cell runs on one of the two runners.
    for (const [name, job] of Object.entries(jobs)) {
      if (job.strategy) expect(job['runs-on'], name).toBe('${{ matrix.runner }}');
      else expect(['ubuntu-24.04', 'ubuntu-24.04-arm'], name).toContain(job['runs-on']);
      expect(job['timeout-minutes'], name).toBeGreaterThan(0);
    }
  });

  it('installs the same host packages as .ci/run, QEMU for the runner\'s own architecture', () => {
    const ciRun = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    const setup = localAction('./.github/actions/lab-setup');
    const apt = stepRunning(setup.runs.steps, /apt-get install/).run!;
    expect(apt).toContain('x86_64) qemu_system=qemu-system-x86');
    expect(apt).toContain('aarch64|arm64) qemu_system=qemu-system-arm');
    // Ubuntu 24.04 (the runners) has no vagrant package, and its chromium is a snap (the runner
    // has Google Chrome instead): only .ci/run (Debian) installs them.
    const debianOnly = ['vagrant', 'chromium'];
    expect(aptPackages(apt, { $nix_bin: 'nix-bin' })).toEqual(aptPackages(ciRun).filter((p) => !debianOnly.includes(p)));
    expect(aptPackages(ciRun)).toContain('vagrant');
    // Where the Nix installer provides nix, the archive's nix-bin stays out.
    expect(setup.inputs?.['nix-bin']?.default).toBe('true');
    expect(jobs.nixos!.steps.find((s) => s.uses === './.github/actions/lab-setup')?.with).toEqual({ 'nix-bin': 'false' });
  });

  it('sets up Node and pnpm with setup.sh, as README and .ci/run do (no other way), before any pnpm call', () => {
    const uses = allSteps.map((s) => s.uses ?? '');
    expect(uses.some((u) => u.startsWith('pnpm/action-setup@') || u.startsWith('actions/setup-node@'))).toBe(false);
    for (const [name, job] of Object.entries(jobs)) {
      const steps = stepsOf(job);
      expect(steps[0]!.uses, name).toMatch(/^actions\/checkout@/);
      const setup = steps.findIndex((s) => /^sh setup\.sh$/m.test(s.run ?? ''));
      const firstPnpm = steps.findIndex((s) => /\bpnpm /.test(s.run ?? ''));
      expect(setup, `${name} runs sh setup.sh`).toBeGreaterThanOrEqual(0);
      expect(setup, name).toBeLessThan(firstPnpm);
    }
    expect(readFileSync(join(ROOT, '.ci', 'run'), 'utf8')).toMatch(/^sh setup\.sh$/m);
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toMatch(/^sh setup\.sh && pnpm lab up && pnpm lab test /m);
    expect(readFileSync(join(ROOT, 'setup.sh'), 'utf8')).toContain('pnpm install --frozen-lockfile');
  });

  it('keeps the image caches keyed by the image recipes', () => {
    const caches = allSteps.filter((s) => s.uses?.startsWith('actions/cache@'));
    expect(caches.length).toBeGreaterThan(0);
    for (const c of caches) expect(String(c.with?.key)).toContain("hashFiles('lab/images/**'");
    expect(caches.some((c) => c.with?.path === '.cache/v6lab/qemu' && String(c.with?.key).includes('lab/tiers/qemu/recipe.ts'))).toBe(true);
    expect(workflow.env?.V6LAB_CACHE_DIR).toBe('${{ github.workspace }}/.cache/v6lab');
  });

  it('runs the NixOS guest\'s cells and the export evaluation with Nix and nixpkgs nixos-25.11, allowed to fail', () => {
    const pinned = localAction('./.github/actions/nix-pinned');
    expect(pinned.runs.steps.some((s) => s.uses?.startsWith('cachix/install-nix-action@'))).toBe(true);
    const lock = stepRunning(pinned.runs.steps, /nix flake lock/).run!;
    expect(lock).toContain('!= nixos-25.11');
    expect(lock).toContain('V6LAB_NIXPKGS=github:NixOS/nixpkgs/$rev');
    for (const name of ['nixos', 'nixos-export']) {
      const job = jobs[name]!;
      expect(job['continue-on-error'], name).toBe(true);
      expect(job.steps.some((s) => s.uses === './.github/actions/nix-pinned'), name).toBe(true);
    }
    expect(jobs.nixos!.strategy?.matrix).toBe('${{ fromJSON(needs.plan.outputs.nixos) }}');
    expect(jobs.nixos!.strategy?.['fail-fast']).toBe(false);
    const evaluate = stepRunning(jobs['nixos-export']!.steps, /nix eval/).run!;
    expect(evaluate).toContain('$(pnpm -s lab export nixos --list)');
    expect(evaluate).toContain('pnpm -s lab export nixos "$design" > "nixos-eval/$design.nix"');
    expect(evaluate).toContain('.lib.evalExports ./nixos-eval');
    expect(String(uploads(jobs['nixos-export']!)[0]?.with?.path)).toContain('flake.lock');
  });

  it('calls only pnpm scripts that package.json has, lab verbs that lab/cli/verbs.ts registers, and flags their help names', () => {
    const calls = pnpmCalls();
    expect(calls.length).toBeGreaterThan(5);
    for (const [command, verb, ...args] of calls) {
      expect([...scripts, ...PNPM_BUILTINS], `pnpm ${command}`).toContain(command);
      if (command !== 'lab') continue;
      expect(Object.keys(VERBS), `pnpm lab ${verb}`).toContain(verb);
      const help = renderVerbHelp(verb!, VERBS[verb!]!);
      for (const flag of args.filter((a) => a.startsWith('--'))) expect(help, `pnpm lab ${verb} ${flag}`).toContain(flag);
    }
    const called = calls.map(([c, v, ...rest]) => (c === 'lab' ? `lab ${v} ${rest.find((a) => a.startsWith('--')) ?? ''}`.trim() : c!));
    for (const needed of ['lab compare --plan', 'lab compare --cell', 'lab compare --merge', 'lab export --list', 'typecheck', 'test:unit', 'bench']) {
      expect(called.some((c) => c.startsWith(needed)), needed).toBe(true);
    }
  });
});
