/**
 * What a scenario body works with: the running lab's machines and a recorder that turns
 * every check into evidence (command, expected, seen, ok, real or emulated). A check that
 * does not hold throws a VerdictError; anything else thrown is breakage.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VerdictError } from '../errors.ts';
import type { LabContext } from './context.ts';
import type { RunResult } from '../exec.ts';
import type { Machine } from '../nodes/machine.ts';
import type { Evidence, Realism, ScenarioVerdict, Tier, VerdictStatus } from '../report/model.ts';

/** What the recorder needs of a scenario's registry entry (lab/scenario/registry.ts). */
export interface ScenarioMeta {
  id: string;
  title: string;
}

export interface Expectation {
  /** What a reader should expect, in words. */
  expected: string;
  /** Default: the command must exit 0. false: it must exit non-zero. */
  exitZero?: boolean;
  /** An extra test on stdout (trimmed), only when the exit code is as expected. */
  test?: (stdout: string) => boolean;
  /** The command's own limit (default 60 s): longer for a command whose work grows with the lab (every network's rules). */
  timeoutMs?: number;
}

export interface CheckSpec {
  check: string;
  machine: Machine;
  command: string;
  expect: Expectation;
}

export interface PendingCheck {
  /** Settles when the command has ended. */
  readonly done: Promise<unknown>;
  /** Waits for the command and records it like check (throws VerdictError unless it meets expect). */
  record(): Promise<string>;
}

export interface ScenarioRun {
  readonly meta: ScenarioMeta;
  readonly lab: LabContext;
  readonly tier: Tier;
  readonly evidence: Evidence[];
  /** Marks the scenario as relying on an emulated step (e.g. reboot on the netns tier). */
  emulated(step: string): void;
  /** Runs a command on a machine and records it; throws VerdictError unless it meets expect. */
  check(check: string, machine: Machine, command: string, expect: Expectation): Promise<string>;
  /**
   * Starts a check's command now; `record()` later turns its result into evidence like check,
   * in the story's order (the evidence reads the same whatever finished first). For
   * independent probes run side by side, above all negative ones that wait out a timeout.
   */
  start(check: string, machine: Machine, command: string, expect: Expectation): PendingCheck;
  /** Independent checks run side by side and recorded in the order given; throws like check at the first that does not hold. */
  checkAll(checks: CheckSpec[]): Promise<string[]>;
  /**
   * Records an observation without throwing (the story goes on to show why and how to fix it);
   * returns ok. A scenario that recorded a failing observation fails at its end.
   */
  record(check: string, node: string, command: string, expected: string, seen: string, ok: boolean, attachments?: string[]): boolean;
  /** Records an observation made by the lab itself (file contents, diffs); throws unless ok. */
  observe(check: string, node: string, command: string, expected: string, seen: string, ok: boolean, attachments?: string[]): void;
  /** The one line shown in the verdict table. */
  summary: string;
  /** Where this run's attachments go (pcaps, logs). */
  readonly attachmentDir: string;
}

function firstLines(text: string, max = 240): string {
  const t = text.trim().replace(/\s*\n\s*/g, ' ⏎ ');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** Whether a command's result meets an expectation, and what was seen, as check records it. Pure. */
export function judgeResult(expect: Expectation, result: Pick<RunResult, 'exitCode' | 'stdout' | 'stderr'>): { ok: boolean; seen: string; stdout: string } {
  const stdout = result.stdout.trim();
  const wantZero = expect.exitZero ?? true;
  const exitOk = wantZero ? result.exitCode === 0 : result.exitCode !== 0;
  const ok = exitOk && (expect.test ? expect.test(stdout) : true);
  const seen = `exit ${result.exitCode}${stdout ? `: ${firstLines(stdout)}` : ''}${!stdout && result.stderr.trim() ? `: ${firstLines(result.stderr)}` : ''}`;
  return { ok, seen, stdout };
}

/**
 * Waits for every pending check to end, then records each in the order given: every command has
 * ended before the first verdict can throw, so none outlives the story.
 */
export async function recordInOrder(pending: readonly PendingCheck[]): Promise<string[]> {
  await Promise.allSettled(pending.map((p) => p.done));
  const outputs: string[] = [];
  for (const p of pending) outputs.push(await p.record());
  return outputs;
}

export type RecordingRun = ScenarioRun & { emulatedSteps: string[] };

export function createScenarioRun(meta: ScenarioMeta, lab: LabContext, runDir: string): RecordingRun {
  const evidence: Evidence[] = [];
  const emulatedSteps: string[] = [];
  const attachmentDir = join(runDir, 'attachments', meta.id);
  const judge = (check: string, machine: Machine, command: string, expect: Expectation, result: RunResult): string => {
    const { ok, seen, stdout } = judgeResult(expect, result);
    run.observe(check, machine.name, command, expect.expected, seen, ok);
    return stdout;
  };
  const run: ScenarioRun = {
    meta,
    lab,
    tier: lab.state.tier,
    evidence,
    summary: '',
    attachmentDir,
    emulated(step) {
      emulatedSteps.push(step);
    },
    check(check, machine, command, expect) {
      return run.start(check, machine, command, expect).record();
    },
    start(check, machine, command, expect) {
      const pending = machine.execute(command, { timeoutMs: expect.timeoutMs ?? 60_000 });
      // Not looked at until record(): keep an early rejection from counting as unhandled.
      pending.catch(() => undefined);
      return { done: pending, record: async () => judge(check, machine, command, expect, await pending) };
    },
    checkAll(checks) {
      return recordInOrder(checks.map((c) => run.start(c.check, c.machine, c.command, c.expect)));
    },
    record(check, node, command, expected, seen, ok, attachments) {
      const realism: Realism = emulatedSteps.length ? 'emulated' : 'real';
      evidence.push({ check, node, command, expected, seen, ok, realism, ...(attachments ? { attachments } : {}) });
      return ok;
    },
    observe(check, node, command, expected, seen, ok, attachments) {
      if (!run.record(check, node, command, expected, seen, ok, attachments)) throw new VerdictError(check, expected, seen);
    },
  };
  mkdirSync(attachmentDir, { recursive: true });
  return Object.assign(run, { emulatedSteps });
}

export function verdictOf(
  run: RecordingRun,
  status: VerdictStatus,
  durationMs: number,
  error?: unknown,
): ScenarioVerdict {
  const steps = run.emulatedSteps;
  const failing = run.evidence.find((e) => !e.ok);
  const message = error instanceof Error ? error.message : error === undefined ? undefined : String(error);
  const summary =
    status === 'pass'
      ? run.summary || (run.evidence.at(-1) ? `${run.evidence.at(-1)!.check}: ${run.evidence.at(-1)!.seen}` : '')
      : failing
        ? `${failing.check}: expected ${failing.expected}, saw ${failing.seen}`
        : (message ?? '').split('\n')[0] ?? '';
  return {
    id: run.meta.id,
    title: run.meta.title,
    status,
    tier: run.tier,
    realism: steps.length ? 'emulated' : 'real',
    design: run.lab.design.design,
    durationMs: Math.round(durationMs),
    summary: steps.length ? `${summary} [emulated: ${[...new Set(steps)].join(', ')}]` : summary,
    evidence: run.evidence,
    ...(message && status !== 'pass' ? { error: message } : {}),
  };
}

export function writeVerdict(runDir: string, verdict: ScenarioVerdict): void {
  mkdirSync(join(runDir, 'verdicts'), { recursive: true });
  writeFileSync(join(runDir, 'verdicts', `${verdict.id}.json`), `${JSON.stringify(verdict, null, 2)}\n`);
}
