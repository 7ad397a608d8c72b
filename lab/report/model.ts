/**
 * The verdict model: what a scenario run produces, independent of how it is shown.
 * Pure data; renderers live beside this file.
 */

export type Tier = 'netns' | 'qemu' | 'vagrant';

/** real: done the way production does it; emulated: the lab imitates it (e.g. reboot on netns). */
export type Realism = 'real' | 'emulated';

/**
 * pass: every check held. fail: a check did not hold (a verdict).
 * error: the lab broke while running the scenario (no verdict could be reached).
 * skipped: the scenario did not run (never counted as passed).
 */
export type VerdictStatus = 'pass' | 'fail' | 'error' | 'skipped';

export interface Evidence {
  /** What this piece of evidence shows, in a few words. */
  check: string;
  /** Where the command ran: a node name such as "web-arm", "upstream", "v6probe". */
  node: string;
  /** The command as run (argv joined), or a description of an observation. */
  command: string;
  expected: string;
  seen: string;
  ok: boolean;
  realism: Realism;
  /** Files attached to this evidence (pcaps, logs), relative to the report directory. */
  attachments?: string[];
}

export interface ScenarioVerdict {
  /** Stable id, e.g. "egress-nat66". */
  id: string;
  title: string;
  status: VerdictStatus;
  tier: Tier;
  /** 'emulated' when any step of the scenario was emulated, else 'real'. */
  realism: Realism;
  design: string;
  durationMs: number;
  /** One line a reader sees in the table. */
  summary: string;
  evidence: Evidence[];
  /** For fail/error: the message of what went wrong. */
  error?: string;
  /** What the design declares for this scenario (absent: pass). A verdict equal to it is intended. */
  expected?: VerdictStatus;
  /** The fork of the lab that ran it (`lab test --parallel`); absent: the lab's own web-arm. */
  ranOn?: string;
}

export interface RunReport {
  schema: 'v6lab.report/1';
  lab: string;
  design: string;
  tier: Tier;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  scenarios: ScenarioVerdict[];
  totals: { passed: number; failed: number; errored: number; skipped: number };
  /** Which web-arm ran what, when the run was shared with forks (`lab test --parallel`). */
  forks?: ForkRecord[];
}

/** What one web-arm of a forked run did: the lab's own (fork 0) or a fork, its share and its times. */
export interface ForkRecord {
  fork: number;
  lab: string;
  scenarios: string[];
  /** How its web-arm came up ("restore 6.1 s"), absent for the lab's own. */
  webArm?: string;
  phasesMs?: { up: number; test: number; down: number };
  error?: string;
}

/** The verdict of a scenario the lab could not run (no verdict written, its fork not up): an error, never a pass. */
export function errorVerdict(id: string, state: { design?: { name: string }; tier: Tier }, summary: string, error: string): ScenarioVerdict {
  return { id, title: id, status: 'error', tier: state.tier, realism: 'real', design: state.design?.name ?? '', durationMs: 0, summary, evidence: [], error };
}

/** A run's report from its verdicts: the lab, its design and tier, when it ran, the totals. */
export function runReportOf(lab: string, state: { design?: { name: string }; tier: Tier }, startedAt: Date, finishedAt: Date, scenarios: ScenarioVerdict[]): RunReport {
  return {
    schema: 'v6lab.report/1',
    lab,
    design: state.design?.name ?? '',
    tier: state.tier,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    scenarios,
    totals: totalsOf(scenarios),
  };
}

export function totalsOf(scenarios: readonly ScenarioVerdict[]): RunReport['totals'] {
  return {
    passed: scenarios.filter((s) => s.status === 'pass').length,
    failed: scenarios.filter((s) => s.status === 'fail').length,
    errored: scenarios.filter((s) => s.status === 'error').length,
    skipped: scenarios.filter((s) => s.status === 'skipped').length,
  };
}

/** A verdict differs from what its design declares (an error is never intended). */
export function isUnexpected(s: Pick<ScenarioVerdict, 'status' | 'expected'>): boolean {
  return s.status === 'error' || s.status !== (s.expected ?? 'pass');
}

/** 0 every verdict is as its design declares (all pass by default), 1 one is not, 2 nothing ran. */
export function exitCodeOfReport(report: RunReport): number {
  const t = report.totals;
  if (t.passed + t.failed + t.errored === 0) return 2;
  return report.scenarios.some(isUnexpected) ? 1 : 0;
}
