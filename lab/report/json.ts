/**
 * JSON rendering of a run report. Keys come out in the order the model declares them,
 * whatever order the report object was built in, so the file diffs cleanly between runs.
 * Keys the model does not know (if any) follow the known ones, alphabetically.
 */

import type { Evidence, RunReport, ScenarioVerdict } from './model.ts';

const REPORT_KEYS = [
  'schema',
  'lab',
  'design',
  'tier',
  'startedAt',
  'finishedAt',
  'durationMs',
  'scenarios',
  'totals',
] as const satisfies readonly (keyof RunReport)[];

const SCENARIO_KEYS = [
  'id',
  'title',
  'status',
  'tier',
  'realism',
  'design',
  'durationMs',
  'summary',
  'evidence',
  'error',
] as const satisfies readonly (keyof ScenarioVerdict)[];

const EVIDENCE_KEYS = [
  'check',
  'node',
  'command',
  'expected',
  'seen',
  'ok',
  'realism',
  'attachments',
] as const satisfies readonly (keyof Evidence)[];

const TOTALS_KEYS = ['passed', 'failed', 'errored', 'skipped'] as const satisfies readonly (keyof RunReport['totals'])[];

type Plain = Record<string, unknown>;

function ordered(source: object, keys: readonly string[], map: (key: string, value: unknown) => unknown = (_k, v) => v): Plain {
  const src = source as Plain;
  const out: Plain = {};
  for (const key of keys) {
    if (Object.hasOwn(src, key) && src[key] !== undefined) out[key] = map(key, src[key]);
  }
  const extra = Object.keys(src)
    .filter((k) => !keys.includes(k))
    .sort();
  for (const key of extra) out[key] = src[key];
  return out;
}

function orderEvidence(evidence: Evidence): Plain {
  return ordered(evidence, EVIDENCE_KEYS);
}

function orderScenario(scenario: ScenarioVerdict): Plain {
  return ordered(scenario, SCENARIO_KEYS, (key, value) =>
    key === 'evidence' && Array.isArray(value) ? (value as Evidence[]).map(orderEvidence) : value,
  );
}

/** The report as pretty JSON (2-space indent), keys in model order, ending in a newline. */
export function renderJsonReport(report: RunReport): string {
  const doc = ordered(report, REPORT_KEYS, (key, value) => {
    if (key === 'scenarios' && Array.isArray(value)) return (value as ScenarioVerdict[]).map(orderScenario);
    if (key === 'totals' && value !== null && typeof value === 'object') return ordered(value, TOTALS_KEYS);
    return value;
  });
  return JSON.stringify(doc, null, 2) + '\n';
}
