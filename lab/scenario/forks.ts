/**
 * `lab test --parallel N`: the run's scenarios shared among the lab's own web-arm and forks of
 * it (forkPlan.ts says who runs what). Each fork is a lab of its own (`<lab>f<i>`: web-arm
 * restored from the tier's snapshot, a router and an internet of its own, the same design and
 * parameters), brought up, given its share with `--only`, and taken down whatever happened,
 * side by side with the lab's own share. The verdicts come back as one report in file order;
 * each verdict a fork gave names the fork (`ranOn`), and the report lists the forks with their
 * times. Effects: runs the lab's CLI for the forks, reads the lab's last report.
 */
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { availableParallelism, freemem } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import { runOnLab } from '../compare/compare.ts';
import { createProgress } from '../progress.ts';
import { errorVerdict, runReportOf, type ForkRecord, type RunReport, type ScenarioVerdict } from '../report/model.ts';
import { runDirOf } from '../report/htmlFiles.ts';
import { readState, updateState, type LabState } from '../state/store.ts';
import { capabilitiesOf } from '../tiers/capabilities.ts';
import { getTier } from '../tiers/registry.ts';
import { defaultStateDir, planLab } from '../topology/plan.ts';
import { defaultWebArms, forkSets, planForks, type ForkShare } from './forkPlan.ts';
import type { ScenarioId } from './ids.ts';
import { scenarioEntry } from './registry.ts';
import { skipReason } from './skipReason.ts';

/** A scenario's cost when the lab has not run it yet (a qemu guest's typical story), and a real reboot's. */
const DEFAULT_MS = 60_000;
const REAL_REBOOT_MS = 240_000;

/** The web-arms a run may use: --parallel N, or by default one per core as memory allows, where the tier forks. */
export function webArmsFor(state: LabState, requested: number | undefined): number {
  const forks = getTier(state.tier).forks;
  if (!forks) {
    if (requested !== undefined && requested > 1) {
      throw new UsageError(`--parallel ${requested}: the ${state.tier} tier cannot fork web-arm (no snapshot to restore it from). Fix: leave --parallel out, or run on a tier that can (--host qemu)`);
    }
    return 1;
  }
  return requested ?? defaultWebArms(availableParallelism(), Math.floor(freemem() / 2 ** 20), forks.webArmMemoryMiB);
}

/** Each scenario's weight: its time in the lab's last report, else a default; 0 where it will be skipped. */
export function scenarioWeights(state: LabState, lastReport: RunReport | undefined): (id: string) => number {
  const capabilities = capabilitiesOf(state.config);
  const expectations = state.design?.plan.expectations ?? {};
  const last = new Map((lastReport?.scenarios ?? []).filter((s) => s.status !== 'error').map((s) => [s.id, s.durationMs]));
  return (id) => {
    const entry = scenarioEntry(id as ScenarioId);
    const expected = (expectations as Record<string, string>)[id];
    if (skipReason({ entry, capabilities, tier: state.tier, config: state.config, design: state.design?.name ?? '', expected })) return 0;
    return last.get(id) ?? (entry.realReboot ? REAL_REBOOT_MS : DEFAULT_MS);
  };
}

function lastReportOf(state: LabState): RunReport | undefined {
  const file = join(planLab(state.config).stateDir, 'reports', 'latest.json');
  try {
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RunReport) : undefined;
  } catch {
    return undefined;
  }
}

/** The shares of a run: who runs which scenario (one share, the lab's own, when forking does not pay). */
export function shareScenarios(state: LabState, ids: readonly string[], webArms: number): ForkShare[] {
  const forks = getTier(state.tier).forks;
  return planForks({
    ids,
    webArms: forks ? webArms : 1,
    lab: state.config.lab.name,
    weight: scenarioWeights(state, lastReportOf(state)),
    realReboot: (id) => Boolean(scenarioEntry(id as ScenarioId).realReboot),
    forkCost: forks?.forkCostMs ?? Number.POSITIVE_INFINITY,
  });
}

export interface ForkedRunOptions {
  shares: ForkShare[];
  /** The run's directory (the merged report's): the forks' attachments are copied into it. */
  runDir: string;
  /** When the run started (its directory is named by it: runDirOf). */
  startedAt: Date;
  /** Runs the lab's own share (the runner's one-lab run with --only). */
  runOwn: (ids: string[]) => Promise<RunReport>;
  signal?: AbortSignal;
}

/** The forks are down again (runOnLab takes each down whatever happened): the lab no longer lists them. */
function forget(lab: string, forkNames: string[]): void {
  try {
    updateState(lab, (s) => {
      s.forks = (s.forks ?? []).filter((f) => !forkNames.includes(f) || readState(f));
      if (!s.forks.length) delete s.forks;
    });
  } catch {
    // the lab itself is gone: nothing to forget
  }
}

/** Runs every share side by side and merges the verdicts into one report, in the lab's file order. */
export async function runForked(state: LabState, order: readonly string[], options: ForkedRunOptions): Promise<RunReport & { forks: ForkRecord[] }> {
  const progress = createProgress();
  const sets = forkSets(state.config);
  const upArgs = ['--host', state.config.lab.tier, '--guest', state.config.lab.guest, '--arch', state.config.lab.arch];
  const [own, ...forks] = options.shares;
  // Recorded before any fork exists: `lab down` of the lab takes them down, also after a crash.
  const forkNames = forks.map((s) => s.lab);
  for (const name of forkNames) {
    if (readState(name)) throw new UsageError(`lab "${name}" is already up: a fork of lab "${state.config.lab.name}" needs that name. Fix: pnpm lab down --name ${name}, or run with --parallel 1`);
  }
  updateState(state.config.lab.name, (s) => {
    s.forks = [...new Set([...(s.forks ?? []), ...forkNames])];
  });
  const forkRuns = forks.map(async (share): Promise<{ record: ForkRecord; verdicts: ScenarioVerdict[] }> => {
    const record: ForkRecord = { fork: share.fork, lab: share.lab, scenarios: share.ids };
    try {
      const ran = await runOnLab({ label: `fork ${share.fork}`, design: state.config.design.name, sets: sets.flatMap((s) => ['--set', s]) }, share.lab, {
        upArgs,
        only: share.ids,
        // A fork runs its share itself: no forks of forks.
        testArgs: ['--parallel', '1'],
        progress,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      record.phasesMs = ran.phasesMs;
      // Evidence the fork attached (pcaps) lives in its own run directory: copied beside the merged report's.
      const attachments = join(runDirOf(defaultStateDir(share.lab), ran.run.report), 'attachments');
      if (existsSync(attachments)) cpSync(attachments, join(options.runDir, 'attachments'), { recursive: true });
      if (ran.run.webArm) record.webArm = `${ran.run.webArm.start} ${(ran.run.webArm.ms / 1000).toFixed(1)} s`;
      return { record, verdicts: ran.run.report.scenarios.map((v) => ({ ...v, ranOn: share.lab })) };
    } catch (error) {
      record.error = (error as Error).message;
      const verdicts = share.ids.map((id) => ({ ...errorVerdict(id, state, `fork ${share.lab} could not run it`, `fork ${share.lab}: ${record.error}`), ranOn: share.lab }));
      return { record, verdicts };
    }
  });
  const ownRun = own!.ids.length ? options.runOwn(own!.ids) : undefined;
  const [ownReport, ...forkResults] = await Promise.all([ownRun, ...forkRuns]).finally(() => forget(state.config.lab.name, forkNames));
  const finishedAt = new Date();
  const verdicts = [...(ownReport?.scenarios ?? []), ...forkResults.flatMap((r) => r.verdicts)];
  const scenarios = order.map((id) => verdicts.find((v) => v.id === id)).filter((v): v is ScenarioVerdict => v !== undefined);
  return {
    ...runReportOf(state.config.lab.name, state, options.startedAt, finishedAt, scenarios),
    forks: [{ fork: 0, lab: own!.lab, scenarios: own!.ids }, ...forkResults.map((r) => r.record)],
  };
}
