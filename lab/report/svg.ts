/**
 * The topology drawn as SVG by Graphviz (`dot -Tsvg`, Debian's graphviz package), for the HTML
 * reports. Effects: runs dot through exec.ts. Never fails a report: without dot (or when it
 * fails) the answer says why, and the page shows that sentence in place of the drawing.
 */
import { run } from '../exec.ts';

export type TopologyDrawing = { svg: string } | { note: string };

export async function drawTopology(dot: string): Promise<TopologyDrawing> {
  const result = await run(['dot', '-Tsvg'], { input: dot, allowFailure: true, timeoutMs: 30_000 }).catch((error: unknown) => ({
    exitCode: -1,
    stdout: '',
    stderr: error instanceof Error ? error.message : String(error),
  }));
  if (result.exitCode === 0 && result.stdout.includes('<svg')) return { svg: result.stdout };
  const missing = /ENOENT|not found/i.test(result.stderr);
  return {
    note: missing
      ? 'No topology drawing: Graphviz (dot) was not found when this report was written. Fix: apt-get install graphviz, then pnpm lab report --html.'
      : `No topology drawing: dot -Tsvg failed (exit ${result.exitCode}): ${result.stderr.trim().split('\n').slice(-3).join(' ')}`,
  };
}

/** The HTML options for a drawing: the SVG, or the note in its place. */
export function drawingOptions(drawing: TopologyDrawing): { topologySvg?: string; topologyNote?: string } {
  return 'svg' in drawing ? { topologySvg: drawing.svg } : { topologyNote: drawing.note };
}
