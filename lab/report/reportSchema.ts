/**
 * The run report (`v6lab.report/1`, lab/report/model.ts) as a zod schema, for reading a report
 * another process or machine wrote (a compare cell file). Keys the model does not know are kept.
 * Pure.
 */
import { z } from 'zod';
import type { Evidence, RunReport, ScenarioVerdict } from './model.ts';

const tier = z.enum(['netns', 'qemu', 'vagrant']);
const realism = z.enum(['real', 'emulated']);
export const verdictStatusSchema = z.enum(['pass', 'fail', 'error', 'skipped']);

const evidence = z.looseObject({
  check: z.string(),
  node: z.string(),
  command: z.string(),
  expected: z.string(),
  seen: z.string(),
  ok: z.boolean(),
  realism,
  attachments: z.array(z.string()).optional(),
}) satisfies z.ZodType<Evidence>;

const verdict = z.looseObject({
  id: z.string(),
  title: z.string(),
  status: verdictStatusSchema,
  tier,
  realism,
  design: z.string(),
  durationMs: z.number(),
  summary: z.string(),
  evidence: z.array(evidence),
  error: z.string().optional(),
  expected: verdictStatusSchema.optional(),
  ranOn: z.string().optional(),
}) satisfies z.ZodType<ScenarioVerdict>;

export const runReportSchema = z.looseObject({
  schema: z.literal('v6lab.report/1'),
  lab: z.string(),
  design: z.string(),
  tier,
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number(),
  scenarios: z.array(verdict),
  totals: z.object({ passed: z.number(), failed: z.number(), errored: z.number(), skipped: z.number() }),
  forks: z
    .array(
      z.object({
        fork: z.number(),
        lab: z.string(),
        scenarios: z.array(z.string()),
        webArm: z.string().optional(),
        phasesMs: z.object({ up: z.number(), test: z.number(), down: z.number() }).optional(),
        error: z.string().optional(),
      }),
    )
    .optional(),
}) satisfies z.ZodType<RunReport>;
