import { UsageError } from '../errors.ts';
import { labTopology } from '../inspect/topology.ts';
import { renderDot, renderMermaid, topologyGraph } from '../report/graph.ts';
import { requireUpState } from '../state/store.ts';
import { planLab } from '../topology/plan.ts';
import { parseCommon } from './options.ts';
import type { Verb } from './verb.ts';
import { OPT } from './usage.ts';

const FORMATS = ['mermaid', 'dot'] as const;

export const graphVerb: Verb = {
  summary: 'the running topology with addresses, as Mermaid or Graphviz DOT (--json: the facts)',
  usage: 'pnpm lab graph [--name NAME] [--format mermaid|dot] [--json]',
  options: [OPT.name, ['--format mermaid|dot', 'Mermaid (default) or Graphviz DOT'], OPT.json],
  example: 'pnpm lab graph --format dot | dot -Tsvg > topology.svg',
  async run(args) {
    const options = parseCommon(args, { format: { type: 'string' } });
    const format = (options.flags.format ?? 'mermaid') as string;
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format: expected one of ${FORMATS.join(', ')}, got "${format}"`);
    }
    const state = requireUpState(options.config.lab.name);
    const facts = await labTopology(planLab(state.config), state);
    if (facts.source !== 'live') process.stderr.write("web-arm's podman did not answer: showing the planned topology (no container addresses)\n");
    if (options.json) {
      process.stdout.write(`${JSON.stringify(facts, null, 2)}\n`);
      return 0;
    }
    const graph = topologyGraph(facts);
    process.stdout.write(format === 'dot' ? renderDot(graph) : renderMermaid(graph));
    return 0;
  },
};
