import { UsageError } from '../errors.ts';
import { runInteractive } from '../exec.ts';
import { consoleLog, describeSource, followArgv, followHostContainer, readLogs, resolveLogSource } from '../inspect/logs.ts';
import { requireUpState } from '../state/store.ts';
import { planLab } from '../topology/plan.ts';
import { attachWebArm } from '../tiers/registry.ts';
import { parseCommon } from './options.ts';
import type { Verb } from './verb.ts';
import { OPT } from './usage.ts';

export const logsVerb: Verb = {
  summary: "a node's or container's log: host containers, web-arm's podman containers and units",
  usage: 'pnpm lab logs <node|container|unit> [--name NAME] [--tail N] [--follow | --console] [--json]',
  options: [
    OPT.name,
    ['--tail N', 'only the last N lines'],
    ['--follow, -f', 'keep printing new lines (Ctrl-C stops)'],
    ['--console', "web-arm's serial console (kernel and init messages; a VM's, qemu tier)"],
    OPT.json,
  ],
  example: 'pnpm lab logs v6egress-network.service --tail 50',
  async run(args) {
    const options = parseCommon(args, { tail: { type: 'string' }, follow: { type: 'boolean', short: 'f' }, console: { type: 'boolean' } });
    const [target, ...extra] = options.positionals;
    if (!target || extra.length > 0) throw new UsageError(`usage: ${logsVerb.usage}`);
    const tail = parseTail(options.flags.tail);
    const follow = Boolean(options.flags.follow);
    if (follow && options.json) throw new UsageError('--follow and --json do not go together: --json prints the log once.');
    const state = requireUpState(options.config.lab.name);
    const plan = planLab(state.config);
    const webArm = attachWebArm(plan, state);
    if (options.flags.console) {
      if (target !== plan.webArm.node) throw new UsageError(`--console reads web-arm's serial console: pnpm lab logs ${plan.webArm.node} --console (not "${target}")`);
      if (follow) throw new UsageError('--console is read once: leave out --follow.');
      const serial = consoleLog(webArm, tail);
      process.stderr.write(`${serial.description}\n`);
      if (options.json) process.stdout.write(`${JSON.stringify({ lab: state.name, target, source: 'console', lines: serial.text.split('\n').filter(Boolean) }, null, 2)}\n`);
      else process.stdout.write(serial.text);
      return 0;
    }
    const source = await resolveLogSource(state, webArm, target);
    process.stderr.write(`${describeSource(source)}\n`);
    if (follow) {
      if (source.kind === 'host-container') {
        await followHostContainer(source.log, tail);
        return 0;
      }
      return runInteractive(followArgv(source.log, tail));
    }
    const chunks = await readLogs(source, tail);
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
