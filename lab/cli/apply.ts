import { applyDesign } from '../lifecycle/apply.ts';
import { createProgress } from '../progress.ts';
import { requireUpState, updateState } from '../state/store.ts';
import { planLab } from '../topology/plan.ts';
import { validateDesign } from '../designs/registry.ts';
import { parseCommon } from './options.ts';
import type { Verb } from './verbs.ts';

export const applyVerb: Verb = {
  summary: "apply the lab's design again, like nixos-rebuild switch (idempotent)",
  usage: 'pnpm lab apply [--name NAME] [--json]',
  async run(args) {
    const options = parseCommon(args);
    const state = requireUpState(options.config.lab.name);
    validateDesign(state.config);
    const result = await applyDesign(planLab(state.config), state, createProgress());
    updateState(state.name, (s) => {
      if (s.design) s.design.appliedAt = new Date().toISOString();
    });
    if (options.json) process.stdout.write(`${JSON.stringify(result.switch, null, 2)}\n`);
    else {
      const sw = result.switch;
      process.stdout.write(`applied ${result.design.design}: started ${sw.added.length}, restarted ${sw.changed.length}, unchanged ${sw.unchanged.length}, stopped ${sw.removed.length}\n`);
    }
    return 0;
  },
};
