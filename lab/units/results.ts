/**
 * What starting, restarting or switching units reports, whoever runs them (the netns tier's
 * emulated systemd, a guest's real one): which units started, which failed and why. Pure.
 */
import { LabBrokenError } from '../errors.ts';
import type { SwitchPlan } from './diff.ts';

export interface UnitFailure {
  unit: string;
  error: string;
}

export interface StartResult {
  started: string[];
  failed: UnitFailure[];
}

export interface SwitchResult extends SwitchPlan {
  failed: UnitFailure[];
}

/** Throws when any unit failed (for callers that need the whole system up). */
export function assertStarted(result: Pick<StartResult, 'failed'>, what: string): void {
  if (result.failed.length) {
    throw new LabBrokenError(`${what}: ${result.failed.length} unit(s) failed:\n${result.failed.map((f) => `- ${f.unit}: ${f.error}`).join('\n')}`);
  }
}
