import { readdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { isObserving, OBSERVING_WORKERS, SCENARIO_IDS_ENV, scenarioIdOf, SIDE_BY_SIDE_ENV } from '../lab/scenario/groups.ts';

// Scenarios are one story each and build on each other's effects (redeploy, then reboot):
// they run one at a time, in file-name order. On the netns tier (`lab test` sets the
// variable) the observing ones (lab/scenario/groups.ts) run first, side by side, then the
// others one at a time in file-name order.
class ByFileName extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return [...files].sort((a, b) => a.moduleId.localeCompare(b.moduleId));
  }
  override async shard(files: TestSpecification[]): Promise<TestSpecification[]> {
    return files;
  }
}

const sideBySide = process.env[SIDE_BY_SIDE_ENV] === '1';
// `lab test` names the scenarios to run here (vitest's file filters would reach past a project's include).
const selected = process.env[SCENARIO_IDS_ENV]?.split(',');
const files = readdirSync(new URL('.', import.meta.url))
  .filter((f) => f.endsWith('.scenario.ts') && (!selected || selected.includes(scenarioIdOf(f))))
  .map((f) => `scenarios/${f}`);
const observing = files.filter((f) => isObserving(scenarioIdOf(f)));
const changing = files.filter((f) => !isObserving(scenarioIdOf(f)));

const root = new URL('..', import.meta.url).pathname;
const common = {
  root,
  // netns tier: one module graph per worker for every scenario file (they share the lab's
  // modules and keep no state of their own between files), imported once, not once per file.
  // Other tiers keep a fresh process per file (a guest's agent client is per process).
  isolate: !sideBySide,
  testTimeout: 600_000,
  hookTimeout: 600_000,
};

export default defineConfig({
  test: {
    ...common,
    ...(sideBySide ? {} : { include: files }),
    fileParallelism: false,
    maxWorkers: 1,
    sequence: { sequencer: ByFileName },
    reporters: ['default'],
    ...(sideBySide
      ? {
          projects: [
            { test: { ...common, name: 'observe', include: observing, fileParallelism: true, maxWorkers: OBSERVING_WORKERS, sequence: { groupOrder: 0 } } },
            { test: { ...common, name: 'change', include: changing, fileParallelism: false, maxWorkers: 1, sequence: { groupOrder: 1 } } },
          ].filter((p) => p.test.include.length > 0),
        }
      : {}),
  },
});
