/**
 * What the qemu-tier integration tests that tell a design's story share: a lab of their own
 * name, its down before and after, the machine's state before it for the leak check, and a
 * scenario run whose every verdict must match what the design declares.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, expect } from 'vitest';
import { findLeaks, ownProcessTree, snapshotMachine, type MachineSnapshot } from '../../lab/host/leakCheck.ts';
import { isUnexpected, type RunReport } from '../../lab/report/model.ts';
import { stateFile } from '../../lab/state/store.ts';
import type { RunResult } from '../../lab/exec.ts';
import { runLab } from './labCli.ts';

export const qemuTestsEnabled = process.getuid?.() === 0 && process.env.V6LAB_QEMU !== '0';

export interface QemuStory {
  readonly name: string;
  lab(...args: string[]): Promise<RunResult>;
  /** Runs these scenarios; each must be as its design declares, on the qemu tier, real. */
  testOnly(ids: string[]): Promise<RunReport>;
  /** lab down; no state file, nothing left beside what was there before. */
  downClean(): Promise<void>;
}

/** Call inside a describe: registers the lab's down before and after the tests. */
export function qemuStory(name: string): QemuStory {
  let before: MachineSnapshot | undefined;
  const lab = (...args: string[]) => runLab(name, args, { timeoutMs: 40 * 60_000 });
  beforeAll(async () => {
    await lab('down');
    before = await snapshotMachine();
  });
  afterAll(async () => {
    await lab('down');
  });
  return {
    name,
    lab,
    async testOnly(ids) {
      const test = await lab('test', '--host', 'qemu', '--only', ids.join(','), '--json');
      expect(test.stdout.trim().startsWith('{'), test.stderr.split('\n').slice(-20).join('\n')).toBe(true);
      const report = JSON.parse(test.stdout) as RunReport;
      expect(report.scenarios.map((s) => s.id).sort()).toEqual([...ids].sort());
      expect(report.scenarios.filter(isUnexpected).map((s) => `${s.design} ${s.id}: ${s.status}: ${s.summary}`)).toEqual([]);
      for (const s of report.scenarios) expect(`${s.id} ${s.tier} ${s.realism}`).toBe(`${s.id} qemu real`);
      return report;
    },
    async downClean() {
      // The test run's own processes (vitest and its workers) are not the lab's leaks.
      const own = ownProcessTree(String(process.ppid));
      const down = await lab('down');
      expect(down.exitCode, down.stderr).toBe(0);
      expect(existsSync(stateFile(name))).toBe(false);
      expect(findLeaks(before!, await snapshotMachine(), { ignorePids: own, lab: name })).toEqual([]);
    },
  };
}
