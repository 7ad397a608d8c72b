/**
 * Progress on stderr as nested, timed steps. stdout stays for results (--json).
 *
 * Two styles, same API:
 *   - plain (CI, pipes, files): one line when a step starts, one when it ends;
 *   - tty (a terminal, not CI): a task list: a step's line shows its elapsed time while it
 *     runs and turns into ✓/✗ with its duration in place when nothing was printed below it
 *     meanwhile; otherwise the end line is printed as in plain.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface Progress {
  step<T>(title: string, fn: () => Promise<T>): Promise<T>;
  note(message: string): void;
}

export type ProgressStyle = 'tty' | 'plain';

export interface WritableText {
  write(text: string): unknown;
}

export interface ProgressOptions {
  /** Plain style: where each line goes (default: stderr). Given alone, the style is plain. */
  write?: (line: string) => void;
  quiet?: boolean;
  /** Default: tty when stderr is a terminal and CI is not set, else plain. */
  style?: ProgressStyle;
  /** tty style: the terminal stream (default: process.stderr). */
  stream?: WritableText;
  /** tty style: colours (default: unless NO_COLOR is set). */
  color?: boolean;
  /** tty style: how often a running step's elapsed time is refreshed (ms; 0 = never). */
  tickMs?: number;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** tty on an interactive terminal outside CI; plain everywhere else. */
export function detectProgressStyle(isTTY: boolean | undefined = process.stderr.isTTY, env: NodeJS.ProcessEnv = process.env): ProgressStyle {
  return isTTY && !env.CI ? 'tty' : 'plain';
}

export function createProgress(options: ProgressOptions = {}): Progress {
  const style = options.style ?? (options.write ? 'plain' : detectProgressStyle());
  if (options.quiet) return quietProgress();
  return style === 'tty' ? ttyProgress(options) : plainProgress(options);
}

function quietProgress(): Progress {
  return {
    step: (_title, fn) => fn(),
    note: () => undefined,
  };
}

function plainProgress(options: ProgressOptions): Progress {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const depth = new AsyncLocalStorage<number>();
  return {
    async step<T>(title: string, fn: () => Promise<T>): Promise<T> {
      const level = depth.getStore() ?? 0;
      const pad = '  '.repeat(level);
      write(`${pad}▸ ${title}`);
      const started = performance.now();
      try {
        const result = await depth.run(level + 1, fn);
        write(`${pad}✓ ${title} (${formatDuration(performance.now() - started)})`);
        return result;
      } catch (error) {
        write(`${pad}✗ ${title} (${formatDuration(performance.now() - started)})`);
        throw error;
      }
    },
    note(message: string): void {
      write(`${'  '.repeat(depth.getStore() ?? 0)}· ${message}`);
    },
  };
}

// ---- tty ----------------------------------------------------------------------------------

const COUNTED = Symbol('v6lab.progress.writes');
type CountedStream = WritableText & { [COUNTED]?: { count: number } };

/**
 * Counts every write to the stream (ours, --verbose command lines, echoed command output),
 * so a step's line is only rewritten while it is still the last thing on the terminal.
 */
function writeCounter(stream: CountedStream): { count: number } {
  if (stream[COUNTED]) return stream[COUNTED];
  const counter = { count: 0 };
  const original = stream.write.bind(stream) as (...args: unknown[]) => unknown;
  stream.write = ((...args: unknown[]) => {
    counter.count += 1;
    return original(...args);
  }) as WritableText['write'];
  stream[COUNTED] = counter;
  return counter;
}

const UP_AND_CLEAR = '\x1b[1A\r\x1b[2K';

interface RunningStep {
  pad: string;
  title: string;
  started: number;
  /** The write count right after this step's line was written: still last while equal. */
  mark: number;
}

function ttyProgress(options: ProgressOptions): Progress {
  const stream = (options.stream ?? process.stderr) as CountedStream;
  const counter = writeCounter(stream);
  const color = options.color ?? !process.env.NO_COLOR;
  const paint = (code: string, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const dim = (t: string) => paint('2', t);
  const depth = new AsyncLocalStorage<number>();
  const running: RunningStep[] = [];
  const tickMs = options.tickMs ?? 1000;
  let ticker: NodeJS.Timeout | undefined;

  const line = (text: string): number => {
    stream.write(`${text}\n`);
    return counter.count;
  };
  const isLast = (s: RunningStep) => counter.count === s.mark;

  const tick = () => {
    const s = running.at(-1);
    if (!s || !isLast(s)) return;
    stream.write(UP_AND_CLEAR);
    s.mark = line(`${s.pad}${paint('36', '▸')} ${s.title} ${dim(formatDuration(performance.now() - s.started))}`);
  };
  const startTicker = () => {
    if (ticker || tickMs <= 0) return;
    ticker = setInterval(tick, tickMs);
    ticker.unref();
  };
  const stopTickerIfIdle = () => {
    if (running.length === 0 && ticker) {
      clearInterval(ticker);
      ticker = undefined;
    }
  };

  const finish = (s: RunningStep, ok: boolean) => {
    const icon = ok ? paint('32', '✓') : paint('31', '✗');
    const text = `${s.pad}${icon} ${s.title} ${dim(`(${formatDuration(performance.now() - s.started)})`)}`;
    if (isLast(s)) stream.write(UP_AND_CLEAR);
    line(text);
    running.splice(running.indexOf(s), 1);
    stopTickerIfIdle();
  };

  return {
    async step<T>(title: string, fn: () => Promise<T>): Promise<T> {
      const level = depth.getStore() ?? 0;
      const pad = '  '.repeat(level);
      const s: RunningStep = { pad, title, started: performance.now(), mark: 0 };
      s.mark = line(`${pad}${paint('36', '▸')} ${title}`);
      running.push(s);
      startTicker();
      try {
        const result = await depth.run(level + 1, fn);
        finish(s, true);
        return result;
      } catch (error) {
        finish(s, false);
        throw error;
      }
    },
    note(message: string): void {
      line(`${'  '.repeat(depth.getStore() ?? 0)}${dim(`· ${message}`)}`);
    },
  };
}

/** A progress that prints nothing (tests, library use). */
export const silentProgress: Progress = createProgress({ quiet: true });
