/**
 * Zero import cycles in lab/ and scenarios/ (issue 17 item 9), type-only imports included: a
 * type both sides need belongs in the lower-level module. madge builds the graph (its
 * TypeScript detective with `skipTypeImports: false`); a failure prints every cycle madge finds
 * and the strongly connected groups of files behind them. Reads the sources; no root.
 */
import { join } from 'node:path';
import madge from 'madge';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

async function importGraph(): Promise<madge.MadgeInstance> {
  return madge([join(ROOT, 'lab'), join(ROOT, 'scenarios')], {
    baseDir: ROOT,
    fileExtensions: ['ts'],
    tsConfig: join(ROOT, 'tsconfig.json'),
    // `import type` and `import { type X }` are edges too (madge 8 / detective-typescript).
    detectiveOptions: { ts: { skipTypeImports: false }, tsx: { skipTypeImports: false } },
  });
}

/** The groups of files that import each other (Tarjan's strongly connected components of two or more, or a self-import). */
function importKnots(graph: Readonly<Record<string, readonly string[]>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const knots: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph[v] ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1 || (graph[v] ?? []).includes(v)) knots.push(group.sort());
  };
  for (const v of Object.keys(graph)) if (!index.has(v)) visit(v);
  return knots;
}

describe('import cycles', () => {
  it('lab/ and scenarios/ have none, type-only imports included', { timeout: 60_000 }, async () => {
    const result = await importGraph();
    const graph = result.obj();
    // The graph is the real one: every local import resolved, and type-only edges present
    // (lab/cli/apply.ts imports lab/cli/verb.ts for a type only).
    expect(result.warnings().skipped, 'imports madge could not resolve').toEqual([]);
    expect(Object.keys(graph).length).toBeGreaterThan(100);
    expect(graph['lab/cli/apply.ts'], 'a type-only import is an edge').toContain('lab/cli/verb.ts');

    const cycles = result.circular();
    const report = [
      ...cycles.map((c, i) => `${i + 1}) ${c.join(' > ')}`),
      ...importKnots(graph).map((k) => `files that import each other: ${k.join(', ')}`),
    ].join('\n');
    expect(cycles, `import cycles (move the shared type or function to the lower-level module):\n${report}`).toEqual([]);
  });

  it('the knot finder finds a cycle of three and a self-import, and nothing in a tree', () => {
    expect(importKnots({ a: ['b'], b: ['c'], c: ['a'], d: ['d'], e: ['a'] })).toEqual([['a', 'b', 'c'], ['d']]);
    expect(importKnots({ a: ['b', 'c'], b: ['c'], c: [] })).toEqual([]);
  });
});
