/**
 * `lab test`: runs the scenario files with vitest against the running lab, collects their
 * verdicts, prints the verdict table and writes JSON, JUnit, Markdown and HTML reports under the
 * lab's state directory. A scenario that wrote no verdict is reported as an error, never
 * as passed.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InterruptedError, UsageError } from '../errors.ts';
import { SCENARIO_IDS_ENV, SIDE_BY_SIDE_ENV } from './groups.ts';
import { run } from '../exec.ts';
import { renderJsonReport } from '../report/json.ts';
import { renderJUnit } from '../report/junit.ts';
import { renderMarkdown } from '../report/markdown.ts';
import { renderDot, renderMermaid, topologyGraph } from '../report/graph.ts';
import { runDirOf, writeHtmlReport } from '../report/htmlFiles.ts';
import { labTopology } from '../inspect/topology.ts';
import { errorVerdict, exitCodeOfReport, runReportOf, type RunReport, type ScenarioVerdict } from '../report/model.ts';
import { closingLine, renderVerdictTable } from '../report/table.ts';
import { exitCodeOfFlake, flakeReport, renderFlakeTable } from '../report/flake.ts';
import { requireUpState } from '../state/store.ts';
import { runForked, shareScenarios, webArmsFor } from './forks.ts';
import { planLab } from '../topology/plan.ts';
import { capabilitiesOf } from '../tiers/capabilities.ts';

export const SCENARIO_DIR = fileURLToPath(new URL('../../scenarios/', import.meta.url));

export interface ScenarioFile {
  id: string;
  file: string;
}

/** Scenario files in run order: scenarios/NN-<id>.scenario.ts. */
export function listScenarioFiles(dir = SCENARIO_DIR): ScenarioFile[] {
  return readdirSync(dir)
    .filter((f) => /^\d+-.+\.scenario\.ts$/.test(f))
    .sort()
    .map((f) => ({ id: f.replace(/^\d+-/, '').replace(/\.scenario\.ts$/, ''), file: join(dir, f) }));
}

function vitestBin(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
}

export interface RunOptions {
  json: boolean;
  only?: string[];
  verbose?: boolean;
  /** Run the suite this many times on the same lab and report the flake rate (default 1: one run, its table). */
  repeat?: number;
  /** Web-arms at once, the lab's own and forks of it (default: where the tier forks, one per core as memory allows). */
  parallel?: number;
  signal?: AbortSignal;
}

/** `lab test`: one run (its verdict table) or, with repeat N, N runs and the flake table. Returns the exit code. */
export async function runScenarios(lab: string, options: RunOptions): Promise<number> {
  const repeat = options.repeat ?? 1;
  const reportsDir = join(planLab(requireUpState(lab).config).stateDir, 'reports');
  if (repeat === 1) {
    const report = await runSuiteOnce(lab, options);
    if (options.json) process.stdout.write(renderJsonReport(report));
    else {
      process.stdout.write(`\n${renderVerdictTable(report, { color: process.stdout.isTTY, width: process.stdout.columns || 120 })}\n`);
      process.stdout.write(`reports: ${reportsDir}/latest.{json,xml,md,html}\n`);
    }
    return exitCodeOfReport(report);
  }
  const reports: RunReport[] = [];
  for (let i = 1; i <= repeat; i++) {
    if (options.signal?.aborted) throw new InterruptedError(`lab test interrupted after ${i - 1} of ${repeat} runs`);
    const report = await runSuiteOnce(lab, options);
    reports.push(report);
    process.stderr.write(`run ${i}/${repeat}: ${closingLine(report.scenarios)} (${Math.round(report.durationMs / 1000)} s)\n`);
  }
  const flake = flakeReport(reports);
  mkdirSync(reportsDir, { recursive: true });
  writeFileSync(join(reportsDir, 'flake.json'), `${JSON.stringify(flake, null, 2)}\n`);
  process.stdout.write(options.json ? `${JSON.stringify(flake, null, 2)}\n` : `\n${renderFlakeTable(flake)}flake report: ${reportsDir}/flake.json (each run's reports under runs/)\n`);
  return exitCodeOfFlake(flake);
}

/** Runs the suite once (on the lab's own web-arm, or shared with forks of it), writes the run's reports and returns them. */
async function runSuiteOnce(lab: string, options: RunOptions): Promise<RunReport> {
  const state = requireUpState(lab);
  const plan = planLab(state.config);
  const files = selectFiles(options.only);
  const startedAt = new Date();
  const runDir = runDirOf(plan.stateDir, { startedAt: startedAt.toISOString() });
  mkdirSync(runDir, { recursive: true });
  const shares = shareScenarios(state, files.map((f) => f.id), webArmsFor(state, options.parallel));
  const report: RunReport =
    shares.length > 1
      ? await runForked(state, files.map((f) => f.id), {
          shares,
          runDir,
          startedAt,
          runOwn: async (ids) => runVitest(lab, runDir, startedAt, files.filter((f) => ids.includes(f.id)), options),
          ...(options.signal ? { signal: options.signal } : {}),
        })
      : await runVitest(lab, runDir, startedAt, files, options);
  const graph = topologyGraph(await labTopology(plan, state));
  writeReports(plan.stateDir, runDir, report, renderMermaid(graph));
  await writeHtmlReport(report, renderDot(graph), { runDir, reportsDir: join(plan.stateDir, 'reports') });
  return report;
}

/** The scenario files of a run (all, or those --only names; an unknown id is bad input). */
function selectFiles(only: readonly string[] | undefined): ScenarioFile[] {
  const files = listScenarioFiles();
  if (!only) return files;
  const unknown = only.filter((id) => !files.some((f) => f.id === id));
  if (unknown.length) throw new UsageError(`Unknown scenario(s): ${unknown.join(', ')}. Known: ${files.map((f) => f.id).join(', ')}`);
  return files.filter((f) => only.includes(f.id));
}

/**
 * Runs the given scenario files with vitest on the lab's own web-arm and reads back their verdicts.
 * The report starts when the run directory was named (runDirOf finds one from the other).
 */
async function runVitest(lab: string, runDir: string, startedAt: Date, files: ScenarioFile[], options: RunOptions): Promise<RunReport> {
  const state = requireUpState(lab);
  const vitest = await run(
    [process.execPath, vitestBin(), 'run', '--config', join(SCENARIO_DIR, 'vitest.config.ts')],
    {
      allowFailure: true,
      echo: true,
      timeoutMs: 60 * 60_000,
      // The scenario workers log their own commands and waits (lab/timeLog.ts).
      selfTimed: true,
      env: {
        V6LAB_LAB: lab,
        V6LAB_RUN_DIR: runDir,
        NO_COLOR: '1',
        FORCE_COLOR: '0',
        [SCENARIO_IDS_ENV]: files.map((f) => f.id).join(','),
        ...(options.verbose ? { V6LAB_VERBOSE: '1' } : {}),
        // Observing scenarios side by side where web-arm takes commands from several processes (a guest's agent serves one).
        ...(capabilitiesOf(state.config).concurrentCommands ? { [SIDE_BY_SIDE_ENV]: '1' } : {}),
      },
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );

  const scenarios: ScenarioVerdict[] = files.map((f) => {
    const path = join(runDir, 'verdicts', `${f.id}.json`);
    if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as ScenarioVerdict;
    return errorVerdict(
      f.id,
      state,
      `wrote no verdict (vitest exit ${vitest.exitCode})`,
      `scenario ${f.id} wrote no verdict; vitest exited ${vitest.exitCode}: ${vitest.stderr.trim().split('\n').slice(-5).join(' | ')}`,
    );
  });
  return runReportOf(lab, state, startedAt, new Date(), scenarios);
}

function writeReports(stateDir: string, runDir: string, report: RunReport, topologyMermaid?: string): void {
  const outputs: Array<[string, string]> = [
    ['report.json', renderJsonReport(report)],
    ['junit.xml', renderJUnit(report)],
    ['report.md', renderMarkdown(report, { topologyMermaid })],
  ];
  const reports = join(stateDir, 'reports');
  mkdirSync(reports, { recursive: true });
  for (const [name, content] of outputs) {
    writeFileSync(join(runDir, name), content);
    const ext = name.split('.').pop()!;
    copyFileSync(join(runDir, name), join(reports, `latest.${ext}`));
  }
}
