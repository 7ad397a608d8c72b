/**
 * The result file of one comparison cell (`lab compare --cell <id> --out <dir>` writes it as
 * `<dir>/cell.json`), schema `v6lab.compare-cell/1`, and the plan file (`lab compare --plan`'s
 * output saved as `plan.json`): their zod schemas, and reading them back with an error that
 * names the file, the field and the fix. A file of another cell-file version is refused, never
 * guessed at. Pure.
 */
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { runReportSchema, verdictStatusSchema } from '../report/reportSchema.ts';
import type { LabState } from '../state/store.ts';
import { labConfigSchema } from '../topology/config.ts';
import type { CellPlan, CompareCell } from './plan.ts';

export const CELL_SCHEMA = 'v6lab.compare-cell/1';
const CELL_SCHEMA_FAMILY = 'v6lab.compare-cell/';

/** The file names `--cell` writes and `--merge` looks for in a directory. */
export const CELL_FILE = 'cell.json';
export const PLAN_FILE = 'plan.json';

const labShape = labConfigSchema.shape.lab.shape;

const compareCellSchema = z.object({
  id: z.string(),
  label: z.string(),
  design: z.string(),
  v6only: z.boolean(),
  // The config schema's own enums: a cell names what `lab up` accepts.
  tier: labShape.tier,
  guest: labShape.guest,
  arch: labShape.arch,
  runner: z.string(),
  allowFailure: z.literal(true).optional(),
}) satisfies z.ZodType<CompareCell>;

export const planSchema = z.object({ include: z.array(compareCellSchema) }).strict() satisfies z.ZodType<CellPlan>;

const machineSchema = z.object({
  hostname: z.string(),
  /** This machine's architecture (x86_64, aarch64). */
  arch: z.string(),
  cores: z.number(),
  memoryMiB: z.number(),
  kernel: z.string(),
  os: z.string(),
  node: z.string(),
  /** Whether /dev/kvm exists (whether it works, the lab's probe decides: see accel). */
  devKvm: z.boolean(),
  ci: z.record(z.string(), z.string()).optional(),
});
export type MachineFacts = z.infer<typeof machineSchema>;

const webArmStartSchema = z.object({
  start: z.enum(['boot', 'restore']),
  ms: z.number(),
  snapshotSaveMs: z.number().optional(),
  restoreFailed: z.string().optional(),
});

export const cellFileSchema = z
  .object({
    schema: z.literal(CELL_SCHEMA),
    cell: compareCellSchema,
    /** The scenarios asked for (`--only`); absent: every scenario. */
    only: z.array(z.string()).optional(),
    /** ran: `report` holds the verdicts; error: the lab could not run the cell (`error` says why). */
    outcome: z.enum(['ran', 'error']),
    error: z.string().optional(),
    /** Every verdict with its evidence and the design's declaration (`expected`), as `lab test --json` printed it. */
    report: runReportSchema.optional(),
    /** The design's declared verdicts as `lab up` applied them (scenario → verdict; absent: pass). */
    declared: z.record(z.string(), verdictStatusSchema),
    /** How web-arm came up (a guest: cold boot or snapshot restore). */
    webArm: webArmStartSchema.optional(),
    /** The accelerator the lab's probe chose for a guest (kvm where /dev/kvm works, else tcg), and why. */
    accel: z.object({ kind: z.enum(['kvm', 'tcg']), why: z.string() }).optional(),
    times: z.object({
      startedAt: z.string(),
      finishedAt: z.string(),
      durationMs: z.number(),
      phasesMs: z.object({ up: z.number(), test: z.number(), down: z.number() }).optional(),
    }),
    machine: machineSchema,
    /** Files beside cell.json, relative to it: the JUnit, the run's Markdown and HTML reports, the pcaps. */
    files: z.object({ junit: z.string().optional(), markdown: z.string().optional(), html: z.string().optional(), pcaps: z.array(z.string()) }),
  })
  .refine((c) => (c.outcome === 'ran' ? c.report !== undefined : c.error !== undefined), { message: 'a cell that ran has a report; one that did not has an error' });
export type CellFile = z.infer<typeof cellFileSchema>;

/** The accelerator of a lab's guest, from its state (absent without a guest: the netns tier). */
export function accelOf(state: Pick<LabState, 'guest'> | undefined): CellFile['accel'] {
  return state?.guest ? { kind: state.guest.accel, why: state.guest.accelWhy } : undefined;
}

/** The machine in one line: "x86_64, 2 cores, 7.8 GiB, Debian GNU/Linux 12 (bookworm), tcg, runner GitHub Actions 3". */
export function machineLine(m: MachineFacts, accel?: CellFile['accel']): string {
  return [
    m.arch,
    `${m.cores} cores`,
    `${(m.memoryMiB / 1024).toFixed(1)} GiB`,
    m.os,
    ...(accel ? [accel.kind] : []),
    ...(m.ci?.runner ? [`runner ${m.ci.runner}`] : []),
  ].join(', ');
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ConfigError(file, text.slice(0, 40), `is not JSON (${(error as Error).message})`, 'pass the cell.json a `lab compare --cell` wrote, or the plan.json of `lab compare --plan`');
  }
}

function zodProblem(file: string, error: z.ZodError, value: unknown, fix: string): ConfigError {
  const issue = error.issues[0]!;
  const field = issue.path.join('.');
  const seen = issue.path.reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key as string] : undefined), value);
  return new ConfigError(`${file}${field ? `: ${field}` : ''}`, seen, issue.message, fix);
}

/** What a file holds: a cell file, a plan, or neither (a ConfigError naming the file). */
export type ComparisonFile = { kind: 'cell'; file: string; cell: CellFile } | { kind: 'plan'; file: string; plan: CellPlan };

export function parseComparisonFile(file: string, text: string): ComparisonFile {
  const value = parseJson(file, text);
  const schema = value && typeof value === 'object' ? (value as { schema?: unknown }).schema : undefined;
  if (typeof schema === 'string' && schema.startsWith(CELL_SCHEMA_FAMILY) && schema !== CELL_SCHEMA) {
    throw new ConfigError(`${file}: schema`, schema, `is another version of the cell file than this v6lab reads (${CELL_SCHEMA})`, 'merge it with the v6lab that wrote it, or run that cell again with this one');
  }
  if (schema === CELL_SCHEMA) {
    const parsed = cellFileSchema.safeParse(value);
    if (!parsed.success) throw zodProblem(file, parsed.error, value, `run the cell again (${CELL_SCHEMA} is documented in README, "lab compare across machines")`);
    return { kind: 'cell', file, cell: parsed.data };
  }
  if (value && typeof value === 'object' && 'include' in value) {
    const parsed = planSchema.safeParse(value);
    if (!parsed.success) throw zodProblem(file, parsed.error, value, 'save the plan as `pnpm lab compare --plan … > plan.json` prints it');
    return { kind: 'plan', file, plan: parsed.data };
  }
  throw new ConfigError(`${file}: schema`, schema, `is neither a cell file (${CELL_SCHEMA}) nor a plan ({ include: [...] })`, 'merge only the cell.json files `lab compare --cell` writes and the plan.json of `lab compare --plan`');
}
