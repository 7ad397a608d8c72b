/**
 * Progress on stderr as nested, timed steps. stdout stays for results (--json).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface Progress {
  step<T>(title: string, fn: () => Promise<T>): Promise<T>;
  note(message: string): void;
}

export interface ProgressOptions {
  write?: (line: string) => void;
  quiet?: boolean;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function createProgress(options: ProgressOptions = {}): Progress {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const depth = new AsyncLocalStorage<number>();
  const indent = () => '  '.repeat(depth.getStore() ?? 0);
  return {
    async step<T>(title: string, fn: () => Promise<T>): Promise<T> {
      const level = depth.getStore() ?? 0;
      const pad = '  '.repeat(level);
      if (!options.quiet) write(`${pad}▸ ${title}`);
      const started = performance.now();
      try {
        const result = await depth.run(level + 1, fn);
        if (!options.quiet) write(`${pad}✓ ${title} (${formatDuration(performance.now() - started)})`);
        return result;
      } catch (error) {
        if (!options.quiet) write(`${pad}✗ ${title} (${formatDuration(performance.now() - started)})`);
        throw error;
      }
    },
    note(message: string): void {
      if (!options.quiet) write(`${indent()}· ${message}`);
    },
  };
}

/** A progress that prints nothing (tests, library use). */
export const silentProgress: Progress = createProgress({ quiet: true });
