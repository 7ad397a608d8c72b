import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../lab/exec.ts';
import type { LabContext } from '../../lab/scenario/context.ts';
import type { Machine } from '../../lab/nodes/machine.ts';
import { isObserving, scenarioIdOf } from '../../lab/scenario/groups.ts';
import { allScenarios } from '../../lab/scenario/registry.ts';
import { createScenarioRun } from '../../lab/scenario/recorder.ts';

describe('scenario groups', () => {
  it('has an observing group made of registered scenarios, each saying what it does', () => {
    const observing = allScenarios().filter((s) => s.observing);
    expect(observing.length).toBeGreaterThan(4);
    for (const s of observing) expect(isObserving(s.id)).toBe(true);
    expect(isObserving('no-such-scenario')).toBe(false);
  });

  it('keeps every story that applies, restarts, reboots or breaks something out of the side-by-side group', () => {
    for (const id of ['idempotent-redeploy', 'idempotent-reboot', 'container-dns', 'router-outage', 'firewall-reload', 'drift', 'subnet-collision', 'inbound-portfwd', 'docker-coexistence']) {
      expect(isObserving(id), id).toBe(false);
    }
  });

  it('reads the id from a scenario file name', () => {
    expect(scenarioIdOf('scenarios/07-no-inbound.scenario.ts')).toBe('no-inbound');
    expect(scenarioIdOf('13-ra-control.scenario.ts')).toBe('ra-control');
  });
});

describe('ScenarioRun.checkAll', () => {
  const dir = mkdtempSync(join(tmpdir(), 'v6lab-checkall-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A machine whose commands answer after the given delay (ms, the number in the command) with exit 0 unless the command says "fail". */
  const slowMachine = (ended: string[]): Machine =>
    ({
      name: 'fake',
      async execute(command: string): Promise<RunResult> {
        await new Promise((r) => setTimeout(r, Number(/\d+/.exec(command)?.[0] ?? 0)));
        ended.push(command);
        return { command, argv: [], exitCode: command.includes('fail') ? 1 : 0, signal: undefined, stdout: command, stderr: '', durationMs: 0 };
      },
    }) as unknown as Machine;
  const lab = { state: { tier: 'netns' }, design: { design: 'x' } } as unknown as LabContext;

  it('runs side by side but records in the order given', async () => {
    const ended: string[] = [];
    const m = slowMachine(ended);
    const run = createScenarioRun({ id: 'a', title: 'a' }, lab, dir);
    const started = performance.now();
    const out = await run.checkAll([
      { check: 'slow', machine: m, command: 'sleep 120', expect: { expected: 'ok' } },
      { check: 'fast', machine: m, command: 'sleep 10', expect: { expected: 'ok' } },
    ]);
    expect(performance.now() - started).toBeLessThan(220);
    expect(ended).toEqual(['sleep 10', 'sleep 120']);
    expect(out).toEqual(['sleep 120', 'sleep 10']);
    expect(run.evidence.map((e) => e.check)).toEqual(['slow', 'fast']);
  });

  it('throws at the first check that does not hold, after every command has ended', async () => {
    const ended: string[] = [];
    const m = slowMachine(ended);
    const run = createScenarioRun({ id: 'b', title: 'b' }, lab, dir);
    await expect(
      run.checkAll([
        { check: 'fails', machine: m, command: 'fail 5', expect: { expected: 'ok' } },
        { check: 'later', machine: m, command: 'sleep 60', expect: { expected: 'ok' } },
      ]),
    ).rejects.toThrow(/fails/);
    expect(ended).toEqual(['fail 5', 'sleep 60']);
    expect(run.evidence.map((e) => [e.check, e.ok])).toEqual([['fails', false]]);
  });
});
