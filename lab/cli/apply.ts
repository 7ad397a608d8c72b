import { applyDesign } from '../lifecycle/apply.ts';
import { UsageError } from '../errors.ts';
import { createProgress } from '../progress.ts';
import { requireUpState, updateState } from '../state/store.ts';
import { applyOverrides, parseOverride } from '../topology/overrides.ts';
import { planLab } from '../topology/plan.ts';
import { attachWebArm } from '../tiers/registry.ts';
import { validateConfig } from '../topology/validate.ts';
import { validateDesign } from '../designs/registry.ts';
import { parseCommon } from './options.ts';
import type { Verb } from './verb.ts';
import { OPT } from './usage.ts';

export const applyVerb: Verb = {
  summary: "apply the lab's design again, like nixos-rebuild switch (idempotent); --set design.… switches the running lab to another design or params",
  usage: 'pnpm lab apply [--name NAME] [--set design.name=… --set design.params.…=…] [--json]',
  options: [OPT.name, ['--set design.…=value', 'switch the design or change its params (design.name, design.params.…; repeatable)'], OPT.json, OPT.verbose],
  example: 'pnpm lab apply --set design.params.strictEnsure=true',
  async run(args) {
    const options = parseCommon(args);
    const state = requireUpState(options.config.lab.name);
    const sets = ((options.flags.set as string[] | undefined) ?? []).map(parseOverride);
    const other = sets.find((o) => !o.path.startsWith('design.'));
    if (other) throw new UsageError(`lab apply changes only the design (design.name, design.params.…); ${other.path} belongs to the topology: bring the lab up again with it`);
    let config = state.config;
    if (sets.length) {
      // Another design replaces the params; the same design keeps the ones not set.
      const switching = sets.some((o) => o.path === 'design.name');
      const base = structuredClone(state.config);
      if (switching) base.design.params = {};
      config = validateConfig(applyOverrides(base, sets));
    }
    validateDesign(config);
    const webArm = attachWebArm(planLab(state.config), state);
    const result = await applyDesign(webArm, config, state.image?.tag ?? '', createProgress());
    updateState(state.name, (s) => {
      s.config = config;
      s.design = { name: result.design.design, appliedAt: new Date().toISOString(), plan: result.design };
    });
    if (options.json) process.stdout.write(`${JSON.stringify(result.switch, null, 2)}\n`);
    else {
      const sw = result.switch;
      process.stdout.write(`applied ${result.design.design}: started ${sw.added.length}, restarted ${sw.changed.length}, reloaded ${sw.reloaded.length}, unchanged ${sw.unchanged.length}, stopped ${sw.removed.length}\n`);
    }
    return 0;
  },
};
