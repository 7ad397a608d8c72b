import { UsageError } from '../errors.ts';
import { runInteractive } from '../exec.ts';
import { describeSource, followArgv, followHostContainer, readLogs, resolveLogSource } from '../inspect/logs.ts';
import { requireUpState } from '../state/store.ts';
import { planLab } from '../topology/plan.ts';
import { attachWebArm } from '../tiers/registry.ts';
import { parseCommon } from './options.ts';
import type { Verb } from './verb.ts';
import { OPT } from './usage.ts';

export const logsVerb: Verb = {
  summary: "a node's or container's log: host containers, web-arm's podman containers and units",
  usage: 'pnpm lab logs <node|container|unit> [--name NAME] [--tail N] [--follow] [--json]',
  options: [OPT.name, ['--tail N', 'only the last N lines'], ['--follow, -f', 'keep printing new lines (Ctrl-C stops)'], OPT.json],
  example: 'pnpm lab logs v6egress-network.service --tail 50',
  async run(args) {
    const options = parseCommon(args, { tail: { type: 'string' }, follow: { type: 'boolean', short: 'f' } });
    const [target, ...extra] = options.positionals;
    if (!target || extra.length > 0) throw new UsageError(`usage: ${logsVerb.usage}`);
    const tail = parseTail(options.flags.tail);
    const follow = Boolean(options.flags.follow);
    if (follow && options.json) throw new UsageError('--follow and --json do not go together: --json prints the log once.');
    const state = requireUpState(options.config.lab.name);
    const plan = planLab(state.config);
    const source = await resolveLogSource(state, plan, target);
    process.stderr.write(`${describeSource(source)}\n`);
    if (follow) {
      if (source.kind === 'host-container') {
        await followHostContainer(source, tail);
        return 0;
      }
      return runInteractive(followArgv(plan, source, tail));
    }
    const chunks = await readLogs(plan, source, tail, attachWebArm(plan, state).machine);
    if (options.json) {
      const lines = chunks.flatMap((c) => c.text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1).map((line) => ({ stream: c.stream, line })));
      process.stdout.write(`${JSON.stringify({ lab: state.name, target, source: source.kind, lines }, null, 2)}\n`);
    } else {
      for (const chunk of chunks) (chunk.stream === 'stderr' ? process.stderr : process.stdout).write(chunk.text);
    }
    return 0;
  },
};

function parseTail(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--tail: expected a number of lines (0 or more), got "${String(value)}"`);
  return n;
}
