/**
 * web-arm's logs on the netns tier: the emulated systemd keeps one log file per long-running
 * unit under web-arm's run directory (oneshots keep none, and there is no journal); web-arm
 * itself is every unit log, each line prefixed with its unit; a container of web-arm's podman is
 * `podman logs` inside web-arm's namespaces. All of them can be followed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors.ts';
import { run } from '../../exec.ts';
import { commandChunks, tailLines } from '../../engine/logStream.ts';
import type { LabPlan } from '../../topology/plan.ts';
import type { WebArmLog, WebArmLogs } from '../tier.ts';
import { installedUnits } from './unitRunner.ts';
import { webArmArgv, webArmDocker } from './webArm.ts';

export function unitLogDir(plan: LabPlan): string {
  return join(plan.webArm.runDir, 'log');
}

/** Units of web-arm that have a log file (long-running ones; oneshots keep none). */
export function unitLogs(plan: LabPlan): Array<{ unit: string; file: string }> {
  const dir = unitLogDir(plan);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort()
    .map((f) => ({ unit: f.slice(0, -'.log'.length), file: join(dir, f) }));
}

/** Names of the containers in web-arm's podman; empty when its API does not answer. */
async function webArmContainerNames(plan: LabPlan): Promise<string[]> {
  try {
    const list = await webArmDocker(plan).listContainers({ all: true });
    return list.flatMap((c) => c.Names.map((n) => n.replace(/^\//, ''))).sort();
  } catch {
    return [];
  }
}

function prefixLines(prefix: string, text: string): string {
  return text
    .split('\n')
    .filter((l, i, all) => l !== '' || i < all.length - 1)
    .map((l) => `${prefix}${l}\n`)
    .join('');
}

function tailArgs(tail: number | undefined): string[] {
  return tail === undefined ? [] : ['-n', String(tail)];
}

function unitFilesLog(description: string, units: Array<{ unit: string; file: string }>, prefixed: boolean): WebArmLog {
  return {
    description,
    async read(tail) {
      const text = units.map((u) => {
        const lines = tailLines(readFileSync(u.file, 'utf8'), tail);
        return prefixed ? prefixLines(`${u.unit}: `, lines) : lines;
      });
      return [{ stream: 'stdout', text: text.join('') }];
    },
    followArgv: (tail) => ['tail', ...tailArgs(tail), '-F', ...units.map((u) => u.file)],
  };
}

function containerLog(plan: LabPlan, container: string): WebArmLog {
  const tailFlag = (tail: number | undefined): string[] => (tail !== undefined ? ['--tail', String(tail)] : []);
  return {
    description: `podman logs ${container} (inside web-arm)`,
    async read(tail) {
      const result = await run(webArmArgv(plan, ['podman', 'logs', ...tailFlag(tail), container]), { timeoutMs: 60_000 });
      return commandChunks(result);
    },
    followArgv: (tail) => webArmArgv(plan, ['podman', 'logs', '--follow', ...tailFlag(tail), container]),
  };
}

export function netnsLogs(plan: LabPlan): WebArmLogs {
  return {
    async find(target) {
      const units = unitLogs(plan);
      if (target === plan.webArm.node) return unitFilesLog(`web-arm's unit logs: ${units.map((u) => u.unit).join(', ') || 'none'}`, units, true);
      const unit = units.find((u) => u.unit === target || u.unit === `${target}.service`);
      if (unit) return unitFilesLog(`web-arm unit ${unit.unit} (${unit.file})`, [unit], false);
      if ((await webArmContainerNames(plan)).includes(target)) return containerLog(plan, target);
      const installed = [...installedUnits(plan).keys()];
      const name = installed.find((u) => u === target || u === `${target}.service`);
      if (name) {
        const container = /^podman-(.+)\.service$/.exec(name)?.[1];
        throw new UsageError(
          `web-arm's ${name} keeps no log: it is a oneshot, and the emulated systemd has no journal.` +
            (container ? ` Its container's log: pnpm lab logs ${container}${plan.name === 'main' ? '' : ` --name ${plan.name}`}` : ''),
        );
      }
      return undefined;
    },
    async known() {
      return [
        plan.webArm.node,
        ...(await webArmContainerNames(plan)).map((c) => `${c} (web-arm container)`),
        ...unitLogs(plan).map((u) => `${u.unit} (web-arm unit)`),
      ];
    },
  };
}
