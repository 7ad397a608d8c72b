import { describe, expect, it } from 'vitest';
import { createProgress, detectProgressStyle } from '../../lab/progress.ts';

const UP_AND_CLEAR = '\x1b[1A\r\x1b[2K';

function fakeTerminal() {
  const term = {
    out: '',
    write(text: string) {
      term.out += text;
      return true;
    },
  };
  return term;
}

describe('detectProgressStyle', () => {
  it('is a task list on a terminal and plain lines in CI or a pipe', () => {
    expect(detectProgressStyle(true, {})).toBe('tty');
    expect(detectProgressStyle(true, { CI: 'true' })).toBe('plain');
    expect(detectProgressStyle(false, {})).toBe('plain');
    expect(detectProgressStyle(undefined, {})).toBe('plain');
  });
});

describe('plain progress', () => {
  it('prints nested, timed steps and notes, one line each', async () => {
    const lines: string[] = [];
    const p = createProgress({ write: (l) => lines.push(l) });
    await p.step('outer', async () => {
      p.note('hello');
      await p.step('inner', async () => undefined);
    });
    await expect(p.step('broken', async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(lines.map((l) => l.replace(/\(\d+ ms\)/, '(T)'))).toEqual([
      '▸ outer',
      '  · hello',
      '  ▸ inner',
      '  ✓ inner (T)',
      '✓ outer (T)',
      '▸ broken',
      '✗ broken (T)',
    ]);
  });

  it('prints nothing when quiet', async () => {
    const lines: string[] = [];
    const p = createProgress({ write: (l) => lines.push(l), quiet: true });
    expect(await p.step('x', async () => 42)).toBe(42);
    p.note('n');
    expect(lines).toEqual([]);
  });
});

describe('tty progress', () => {
  it('turns a step that printed nothing below it into ✓ in place', async () => {
    const term = fakeTerminal();
    const p = createProgress({ style: 'tty', stream: term, color: false, tickMs: 0 });
    await p.step('leaf', async () => undefined);
    expect(term.out).toMatch(new RegExp(`^▸ leaf\\n${escape(UP_AND_CLEAR)}✓ leaf \\(\\d+ ms\\)\\n$`));
  });

  it('prints a separate end line when something was printed meanwhile (children, other output)', async () => {
    const term = fakeTerminal();
    const p = createProgress({ style: 'tty', stream: term, color: false, tickMs: 0 });
    await p.step('outer', async () => {
      await p.step('inner', async () => undefined);
      term.write('  $ some command\n');
    });
    const lines = term.out.replaceAll(UP_AND_CLEAR, '⟲').replace(/\(\d+ ms\)/g, '(T)').split('\n');
    expect(lines).toEqual(['▸ outer', '  ▸ inner', '⟲  ✓ inner (T)', '  $ some command', '✓ outer (T)', '']);
  });

  it('marks a failed step with ✗ and rethrows', async () => {
    const term = fakeTerminal();
    const p = createProgress({ style: 'tty', stream: term, color: false, tickMs: 0 });
    await expect(p.step('bad', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(term.out).toContain('✗ bad (');
  });

  it('refreshes a running step with its elapsed time while it is the last line', async () => {
    const term = fakeTerminal();
    const p = createProgress({ style: 'tty', stream: term, color: false, tickMs: 20 });
    await p.step('slow', () => new Promise((r) => setTimeout(r, 90)));
    const frames = term.out.split(UP_AND_CLEAR);
    expect(frames.length).toBeGreaterThan(2);
    expect(frames.some((f) => /^▸ slow \d+ ms\n$/.test(f))).toBe(true);
    expect(frames.at(-1)).toMatch(/^✓ slow \(\d+ ms\)\n$/);
  });
});

function escape(text: string): string {
  return text.replace(/[[\]\\^$.|?*+()]/g, '\\$&');
}
