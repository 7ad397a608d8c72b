/**
 * What every verb says when its lab is down, half up, or given a node that does not exist:
 * the real reason and the fix, exit 2. The message itself is pure (lab/state/notUp.ts); the
 * verbs are spawned as a user runs them, against a private runtime directory (no lab, no root
 * needed, nothing created outside the temporary directory).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { labNotUpMessage } from '../../lab/state/notUp.ts';
import { defaultConfig } from '../../lab/topology/config.ts';

const MAIN = fileURLToPath(new URL('../../lab/cli/lab.mjs', import.meta.url));
const runtime = mkdtempSync(join(tmpdir(), 'v6lab-notup-'));
afterAll(() => rmSync(runtime, { recursive: true, force: true }));

async function lab(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, ...args], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, V6LAB_RUNTIME_DIR: runtime },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function writeLabState(name: string, phase: 'creating' | 'up'): void {
  const config = defaultConfig();
  config.lab.name = name;
  const containers = ['upstream', 'v6only-target', 'v4only-target', 'dns', 'internet-client', 'mx'].map((node, i) => ({
    node,
    containerName: `fake-${node}`,
    id: `id${i}`,
    pid: 999_999_0 + i,
    netnsName: `fake-${name}-${i}`,
  }));
  const state = {
    schema: 'v6lab.state/1',
    name,
    tier: 'netns',
    phase,
    createdAt: '2026-01-01T00:00:00.000Z',
    config,
    containers,
    design: { name: 'v6egress', appliedAt: '2026-01-01T00:00:00.000Z', plan: { design: 'v6egress' } },
    podmanSettings: [],
    boots: 0,
  };
  mkdirSync(join(runtime, name), { recursive: true });
  writeFileSync(join(runtime, name, 'state.json'), JSON.stringify(state));
}

describe('labNotUpMessage', () => {
  it('a lab that is down: says so and how to bring it up, with its name when not main', () => {
    expect(labNotUpMessage('main', undefined, [])).toBe('lab "main" is down (nothing of it is running). Fix: bring it up first: pnpm lab up.');
    expect(labNotUpMessage('h18', undefined, [])).toContain('Fix: bring it up first: pnpm lab up --name h18.');
  });

  it('points at the labs that are up', () => {
    expect(labNotUpMessage('main', undefined, ['h18', 'main'])).toContain('Labs up now: h18 (for one of them add --name h18).');
  });

  it('a lab whose up did not finish: says so, and the fix is down then up', () => {
    const m = labNotUpMessage('h18', 'creating', []);
    expect(m).toContain('has not finished');
    expect(m).toContain('pnpm lab down --name h18 && pnpm lab up --name h18');
  });
});

describe('every verb on a lab that is down', () => {
  const VERBS_NEEDING_A_LAB: string[][] = [
    ['test'],
    ['apply'],
    ['reboot'],
    ['exec', 'nosuch', '--', 'true'],
    ['exec', 'web-arm', '--', 'true'],
    ['shell', 'nosuch'],
    ['logs', 'nosuch'],
    ['capture', 'nosuch:eth0'],
    ['graph'],
  ];
  it.concurrent.each(VERBS_NEEDING_A_LAB.map((a) => [a.join(' '), a] as const))('lab %s: "is down" and the fix, exit 2', { timeout: 60_000 }, async (_, args) => {
    const r = await lab(args[0]!, '--name', 'gone18', ...args.slice(1));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('E_STATE: lab "gone18" is down');
    expect(r.stderr).toContain('pnpm lab up --name gone18');
    expect(r.stderr).not.toMatch(/No node/);
  });

  it('status says down and exits 0', { timeout: 60_000 }, async () => {
    const r = await lab('status', '--name', 'gone18');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('lab "gone18" is down\n');
  });
});

describe('a lab half up, and a bad node name on a lab that is up', () => {
  it('exec on a lab whose up never finished says so, not "No node"', { timeout: 60_000 }, async () => {
    writeLabState('half18', 'creating');
    const r = await lab('exec', 'nosuch', '--name', 'half18', '--', 'true');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('its `lab up` has not finished');
    expect(r.stderr).toContain('pnpm lab down --name half18 && pnpm lab up --name half18');
  });

  it('exec with a bad node name on a lab that is up names the nodes and the fix', { timeout: 60_000 }, async () => {
    writeLabState('up18', 'up');
    const r = await lab('exec', 'nosuch', '--name', 'up18', '--', 'true');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('No node "nosuch" in lab "up18". Nodes: web-arm, upstream');
    expect(r.stderr).toContain('Fix: name one of them (pnpm lab status --name up18');
    // …and a down lab's message points at the lab that is up.
    const other = await lab('exec', 'web-arm', '--name', 'gone18', '--', 'true');
    expect(other.stderr).toContain('Labs up now: up18');
  });
});
