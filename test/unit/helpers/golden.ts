import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden');
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';

/** Compares with test/unit/golden/<name>; UPDATE_GOLDEN=1 rewrites the file instead. */
export function expectGolden(name: string, actual: string): void {
  const file = join(GOLDEN_DIR, name);
  if (UPDATE) {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) {
    throw new Error(`golden file ${file} is missing; run with UPDATE_GOLDEN=1 to create it`);
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

/** Runs fn and returns what it threw; fails the test if it did not throw. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw, but it returned');
}

/** A suite title that says why it is skipped when it is (vitest shows the title of a skipped suite). */
export function titleOrSkipReason(title: string, runs: boolean, reason: string): string {
  return runs ? title : `${title} (skipped: ${reason})`;
}
