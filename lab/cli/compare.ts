/**
 * `lab compare`: designs side by side on this machine, or a comparison spread over machines:
 * `--plan` prints the cells for a CI matrix, `--cell` runs one of them into a directory,
 * `--merge` builds the matrix from the cells' files. Parses flags, calls lab/compare/, maps the
 * outcome to the exit code (0 every cell as declared, 1 one differs, 2 bad input or a cell
 * missing or not run).
 */
import { takeAdrFlag, writeAdrDraft, type AdrRequest } from '../compare/adrFile.ts';
import { runCell } from '../compare/cell.ts';
import { newCompareDir, runCompare, writeMatrixFiles } from '../compare/compare.ts';
import { readComparisonFiles } from '../compare/inputs.ts';
import { exitCodeOfMatrix, renderMatrixJson, renderMatrixTable, type CompareMatrix } from '../compare/matrix.ts';
import { mergeCells } from '../compare/merge.ts';
import { cellFromId, findCell, planCells } from '../compare/plan.ts';
import { UsageError } from '../errors.ts';
import { createProgress } from '../progress.ts';
import { parseCommon, type CommonOptions } from './options.ts';
import type { Verb } from './verb.ts';
import { OPT } from './usage.ts';
import { capabilitiesOf } from '../tiers/capabilities.ts';
import { onInterrupt } from './interrupt.ts';

const EXTRA = {
  only: { type: 'string' },
  parallel: { type: 'string' },
  'no-snapshot': { type: 'boolean' },
  plan: { type: 'boolean' },
  cell: { type: 'string' },
  out: { type: 'string' },
  merge: { type: 'boolean' },
  'allow-failure': { type: 'boolean' },
} as const;

const LIST_FLAGS = ['host', 'guest', 'arch'] as const;
type Lists = Partial<Record<(typeof LIST_FLAGS)[number], string[]>>;

/** `--host a,b`, `--guest …`, `--arch …` as lists (a plan spans several), and the other arguments. */
export function takeListFlags(args: readonly string[]): { lists: Lists; rest: string[] } {
  const lists: Lists = {};
  const rest: string[] = [];
  const dash = args.indexOf('--');
  const own = dash >= 0 ? args.slice(0, dash) : args;
  for (let i = 0; i < own.length; i++) {
    const arg = own[i]!;
    const flag = LIST_FLAGS.find((f) => arg === `--${f}` || arg.startsWith(`--${f}=`));
    if (!flag) {
      rest.push(arg);
      continue;
    }
    const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : own[++i];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`--${flag} takes a value, e.g. --${flag} ${flag === 'arch' ? 'x86_64,aarch64' : flag === 'host' ? 'netns' : 'debian'}`);
    lists[flag] = [...(lists[flag] ?? []), ...value.split(',').filter(Boolean)];
  }
  return { lists, rest: [...rest, ...(dash >= 0 ? args.slice(dash) : [])] };
}

const only = (o: CommonOptions) => (typeof o.flags.only === 'string' ? o.flags.only.split(',') : undefined);
/** --set values for every `lab up` (the design and the lab's name are the comparison's). */
const labSets = (o: CommonOptions) => ((o.flags.set as string[] | undefined) ?? []).filter((s) => !s.startsWith('design.') && !s.startsWith('lab.name='));

/** Flags that belong to another step of the comparison are refused, not silently ignored. */
function onlyFlags(o: CommonOptions, step: string, allowed: readonly (keyof typeof EXTRA)[]): void {
  const stray = (Object.keys(EXTRA) as (keyof typeof EXTRA)[]).filter((f) => !allowed.includes(f) && o.flags[f] !== undefined);
  if (stray.length) throw new UsageError(`lab compare${step}: ${stray.map((f) => `--${f}`).join(', ')} belong${stray.length === 1 ? 's' : ''} to another step. Fix: leave ${stray.length === 1 ? 'it' : 'them'} out (pnpm lab compare --help shows which flags go with which step)`);
}

function printMatrix(matrix: CompareMatrix, outputDir: string, json: boolean, adrFile?: string): number {
  process.stdout.write(json ? renderMatrixJson(matrix) : `\n${renderMatrixTable(matrix)}Markdown, JSON and HTML: ${outputDir}/matrix.{md,json,html}\n${adrFile ? `ADR draft: ${adrFile}\n` : ''}`);
  return exitCodeOfMatrix(matrix);
}

/** The command line as a person typed it (for the ADR's evidence line). */
function commandLine(args: readonly string[]): string {
  return ['pnpm lab compare', ...args.map((a) => (/^[\w@./,=:-]+$/.test(a) ? a : `"${a}"`))].join(' ');
}

function plan(args: string[]): number {
  const { lists, rest } = takeListFlags(args);
  const options = parseCommon(rest, EXTRA);
  onlyFlags(options, ' --plan', ['plan', 'allow-failure']);
  const cells = planCells({ entries: options.positionals, ...(lists.host ? { tiers: lists.host } : {}), ...(lists.guest ? { guests: lists.guest } : {}), ...(lists.arch ? { arches: lists.arch } : {}), allowFailure: options.flags['allow-failure'] === true });
  // One line: a workflow step writes it to $GITHUB_OUTPUT and feeds it to strategy.matrix with fromJSON.
  process.stdout.write(`${JSON.stringify(cells)}\n`);
  return 0;
}

async function cell(args: string[]): Promise<number> {
  const { lists, rest } = takeListFlags(args);
  const options = parseCommon(rest, EXTRA);
  onlyFlags(options, ' --cell', ['cell', 'out', 'only', 'no-snapshot']);
  const id = options.flags.cell as string;
  const out = options.flags.out;
  if (typeof out !== 'string' || !out) throw new UsageError('lab compare --cell needs --out DIR (the cell\'s directory: cell.json, junit.xml, pcaps)');
  const designs = options.positionals;
  if (!designs.length && Object.keys(lists).length) throw new UsageError('lab compare --cell: --host/--guest/--arch go with the plan\'s designs; the id alone names its tier, guest and arch. Fix: drop them, or give the designs too');
  const target = designs.length ? findCell(planCells({ entries: designs, ...(lists.host ? { tiers: lists.host } : {}), ...(lists.guest ? { guests: lists.guest } : {}), ...(lists.arch ? { arches: lists.arch } : {}) }), id) : cellFromId(id);
  const labName = typeof options.flags.name === 'string' ? options.flags.name : `cell${process.pid % 100000}`;
  const interrupt = onInterrupt('stopping the cell and taking its lab down');
  const result = await runCell(target, {
    out,
    labName,
    ...(only(options) ? { only: only(options)! } : {}),
    upArgs: [...labSets(options).flatMap((s) => ['--set', s]), ...(options.flags['no-snapshot'] === true ? ['--no-snapshot'] : [])],
    base: options.config,
    progress: createProgress(),
    signal: interrupt.signal,
  }).finally(() => interrupt.dispose());
  const f = result.file;
  const verdicts = f.report ? `${f.report.totals.passed} passed, ${f.report.totals.failed} failed, ${f.report.totals.errored} errored, ${f.report.totals.skipped} skipped` : `not run: ${f.error?.split('\n')[0]}`;
  process.stdout.write(options.json ? `${JSON.stringify(f, null, 2)}\n` : `cell ${f.cell.id}: ${verdicts}; exit ${result.exitCode}\ncell file, JUnit and pcaps: ${result.dir}/\n`);
  return result.exitCode;
}

function merge(allArgs: string[]): number {
  const { adr, rest: args } = takeAdrFlag(allArgs);
  const options = parseCommon(args, EXTRA);
  onlyFlags(options, ' --merge', ['merge', 'out']);
  const { matrix, runs, notes } = mergeCells(readComparisonFiles(options.positionals));
  for (const n of notes) process.stderr.write(`note: ${n}\n`);
  const outputDir = typeof options.flags.out === 'string' ? options.flags.out : newCompareDir();
  writeMatrixFiles(outputDir, matrix, runs, (r) => `This column ran as cell ${r.source?.cell ?? r.design}${r.source?.machine ? ` on ${r.source.machine}` : ''}; its pcaps are in that cell's directory.`);
  return printMatrix(matrix, outputDir, options.json, adr ? writeAdrDraft(outputDir, adr, matrix, runs, commandLine(allArgs)) : undefined);
}

export const compareVerb: Verb = {
  summary: 'run several designs, each on its own lab, and print the design × scenario matrix (or plan, run and merge its cells across machines)',
  usage:
    'pnpm lab compare <design>[@v6only] <design>[@v6only] … [--host netns|qemu|vagrant] [--guest debian|nixos] [--arch x86_64|aarch64] [--no-snapshot] [--only id,id] [--parallel N] [--name PREFIX] [--set path=value …] [--adr N "TITLE"] [--json]\n' +
    '  pnpm lab compare --plan <design>[@v6only] … [--host T,T] [--guest G,G] [--arch x86_64,aarch64] [--allow-failure]\n' +
    '  pnpm lab compare --cell ID --out DIR [<design>… --host … --guest … --arch …] [--only id,id] [--name NAME] [--set path=value …]\n' +
    '  pnpm lab compare --merge DIR|FILE … [--out DIR] [--adr N "TITLE"] [--json]',
  options: [
    OPT.host, OPT.guest, OPT.arch, OPT.noSnapshot, OPT.only,
    ['--parallel N', 'labs at once (default 2, 1 on the qemu tier)'],
    ['--name PREFIX', 'the labs are named PREFIXx0, PREFIXx1, … (at most 16 characters); with --cell: the cell\'s lab'],
    ['--plan', 'print the cells (design × variant × tier × guest × arch, each with its id and runner label) as {"include": […]} for a CI matrix; --host/--guest/--arch take comma lists'],
    ['--allow-failure', "with --plan: the cells' failure does not fail the merge (a new column, until it has passed once)"],
    ['--cell ID', 'run one cell of the plan on this machine (the id alone names it, or give the plan\'s designs and flags)'],
    ['--out DIR', "with --cell: the cell's directory (cell.json, junit.xml, reports, pcaps; new or empty); with --merge: where the matrix goes"],
    ['--merge', 'build the matrix from cell files made on many machines (directories are searched for cell.json and plan.json)'],
    ['--adr N "TITLE"', 'also write an ADR draft (MADR layout) from the matrix: docs/adr/<N>-<slug>.md under the output directory'],
    OPT.set, OPT.json, OPT.verbose,
  ],
  example: 'pnpm lab compare v6egress routed-subprefix routed-subprefix-ndp',
  async run(args) {
    const modes = (['--plan', '--cell', '--merge'] as const).filter((m) => args.some((a) => a === m || a.startsWith(`${m}=`)));
    if (modes.length > 1) throw new UsageError(`lab compare: ${modes.join(' and ')} are different steps. Fix: give one of them per command`);
    if (modes[0] === '--plan') return plan(args);
    if (modes[0] === '--cell') return cell(args);
    if (modes[0] === '--merge') return merge(args);
    const adrTaken = takeAdrFlag(args);
    const adr: AdrRequest | undefined = adrTaken.adr;
    const options = parseCommon(adrTaken.rest, EXTRA);
    onlyFlags(options, '', ['only', 'parallel', 'no-snapshot']);
    const designs = options.positionals;
    const parallel = typeof options.flags.parallel === 'string' ? Number(options.flags.parallel) : undefined;
    if (parallel !== undefined && (!Number.isInteger(parallel) || parallel < 1)) throw new UsageError('--parallel takes a whole number ≥ 1');
    // --host, --guest, --arch and --no-snapshot go to every `lab up` as they are (--host vagrant implies --guest nixos there).
    const upFlags = [
      ...(['host', 'guest', 'arch'] as const).flatMap((f) => (typeof options.flags[f] === 'string' ? [`--${f}`, options.flags[f] as string] : [])),
      ...(options.flags['no-snapshot'] === true ? ['--no-snapshot'] : []),
    ];
    // --name is the prefix of the labs' names (<prefix>x0, <prefix>x1, …).
    const namePrefix = typeof options.flags.name === 'string' ? options.flags.name : undefined;
    if (namePrefix !== undefined && `${namePrefix}x${designs.length - 1}`.length > 16) {
      throw new UsageError(`--name ${namePrefix}: the labs are named ${namePrefix}x0 … ${namePrefix}x${designs.length - 1}, at most 16 characters: use a shorter prefix`);
    }
    // Ctrl-C: the running design's lab is taken down, no other starts.
    const interrupt = onInterrupt('stopping the running design and taking its lab down');
    const { lab } = options.config;
    const { matrix, outputDir, runs } = await runCompare(designs, {
      only: only(options),
      parallel,
      sets: labSets(options),
      upFlags,
      labsSideBySide: capabilitiesOf(options.config).labsSideBySide,
      ...(namePrefix !== undefined ? { namePrefix } : {}),
      where: { tier: lab.tier, guest: lab.guest, arch: lab.arch },
      progress: createProgress(),
      signal: interrupt.signal,
    }).finally(() => interrupt.dispose());
    return printMatrix(matrix, outputDir, options.json, adr ? writeAdrDraft(outputDir, adr, matrix, runs, commandLine(args)) : undefined);
  },
};
