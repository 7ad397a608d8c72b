/**
 * `pnpm lab report --html [--name NAME]`: renders the HTML report again from the lab's latest
 * JSON report (the topology from the DOT saved beside it, or the planned one), e.g. after an
 * upgrade of the renderer or once Graphviz is installed. Needs no running lab.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LabStateError, UsageError } from '../errors.ts';
import { plannedTopology, renderDot, topologyGraph } from '../report/graph.ts';
import { runDirOf, writeHtmlReport } from '../report/htmlFiles.ts';
import type { RunReport } from '../report/model.ts';
import { readState } from '../state/store.ts';
import { planLab } from '../topology/plan.ts';
import { nameFlag } from '../state/notUp.ts';
import { parseCommon } from './options.ts';
import { OPT } from './usage.ts';
import type { Verb } from './verb.ts';

export const reportVerb: Verb = {
  summary: "render the lab's latest report again, as one HTML page (verdicts, topology, evidence, pcap links)",
  usage: 'pnpm lab report --html [--name NAME]',
  options: [['--html', 'write reports/latest.html (and the run directory\'s report.html) from reports/latest.json'], OPT.name],
  example: 'pnpm lab report --html --name h18',
  async run(args) {
    const options = parseCommon(args, { html: { type: 'boolean' } });
    if (options.flags.html !== true) throw new UsageError('lab report needs a format: --html (the one it renders; the JSON, JUnit and Markdown reports are written by lab test)');
    if (options.positionals.length) throw new UsageError(`Unexpected argument "${options.positionals[0]}"`);
    const name = options.config.lab.name;
    const config = readState(name)?.config ?? options.config;
    const plan = planLab(config);
    const reportsDir = join(plan.stateDir, 'reports');
    const jsonFile = join(reportsDir, 'latest.json');
    if (!existsSync(jsonFile)) {
      throw new LabStateError(`lab "${name}" has no report yet (no ${relative(process.cwd(), jsonFile)}). Fix: run the scenarios first: pnpm lab test${nameFlag(name)} (with the lab up: pnpm lab up${nameFlag(name)})`);
    }
    let report: RunReport;
    try {
      report = JSON.parse(readFileSync(jsonFile, 'utf8')) as RunReport;
      if (report.schema !== 'v6lab.report/1' || !Array.isArray(report.scenarios)) throw new TypeError(`schema ${String(report.schema)}`);
    } catch (error) {
      throw new LabStateError(`${jsonFile} is not a v6lab report (${(error as Error).message}). Fix: pnpm lab test${nameFlag(name)} writes a new one`);
    }
    const dotFile = join(reportsDir, 'latest.dot');
    const dot = existsSync(dotFile) ? readFileSync(dotFile, 'utf8') : renderDot(topologyGraph(plannedTopology(plan)));
    const [latest] = await writeHtmlReport(report, dot, { runDir: runDirOf(plan.stateDir, report), reportsDir });
    process.stdout.write(`${latest}\nopen it in a browser: xdg-open ${latest}   (or file://${latest})\n`);
    return 0;
  },
};
