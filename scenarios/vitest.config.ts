import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// Scenarios are one story each and build on each other's effects (redeploy, then reboot):
// they run one at a time, in file-name order.
class ByFileName extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return [...files].sort((a, b) => a.moduleId.localeCompare(b.moduleId));
  }
  override async shard(files: TestSpecification[]): Promise<TestSpecification[]> {
    return files;
  }
}

export default defineConfig({
  test: {
    include: ['scenarios/**/*.scenario.ts'],
    root: new URL('..', import.meta.url).pathname,
    fileParallelism: false,
    maxWorkers: 1,
    // One module graph for every scenario file (they share the lab's modules and keep no
    // state of their own between files): imported once, not once per file (~0.5 s each).
    isolate: false,
    testTimeout: 600_000,
    hookTimeout: 600_000,
    sequence: { sequencer: ByFileName },
    reporters: ['default'],
  },
});
