/**
 * Restart=always for the netns tier's emulated systemd: one small process per running unit that
 * says it, started by the unit runner (`node unitSupervisor.ts --name <lab> <unit>`, its output
 * in the unit's log). It watches the unit's main process (a container's conmon); when that ends
 * (the container stopped or died) it does what systemd does: the stop commands, RestartSec=, the
 * start again, and gives up with the unit failed after five failed starts within 10 s. A stop of
 * the unit ends its watcher first; so do web-arm's power-off and `lab down` (by the mark on its
 * command line, unitRunner.supervisorMark). Effects: a process of its own.
 */
import { readState } from '../../state/store.ts';
import { planLab } from '../../topology/plan.ts';
import { mainProcessEnded, readActive, restartAfterExit } from './unitRunner.ts';

const POLL_MS = 200;
/** How long a new watcher waits for the runner to record it (it is spawned just before). */
const ADOPT_MS = 10_000;

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} v6lab-systemd[${process.pid}]: ${line}\n`);
}

async function main(argv: string[]): Promise<number> {
  const at = argv.indexOf('--name');
  const lab = at >= 0 ? argv[at + 1] : undefined;
  const unit = at >= 0 ? argv[at + 2] : undefined;
  if (!lab || !unit) {
    log('usage: unitSupervisor.ts --name <lab> <unit>');
    return 2;
  }
  const state = readState(lab);
  if (!state?.config) {
    log(`no state for lab ${lab}`);
    return 2;
  }
  const plan = planLab(state.config);
  const mine = () => readActive(plan)[unit]?.supervisor === process.pid;
  const adoptBy = Date.now() + ADOPT_MS;
  while (!mine()) {
    if (Date.now() > adoptBy) return 0;
    await new Promise((r) => setTimeout(r, 50));
  }
  log(`${unit}: watching its main process ${readActive(plan)[unit]?.pid ?? '?'} (Restart=always)`);
  for (;;) {
    if (!mine()) return 0;
    if (mainProcessEnded(readActive(plan)[unit]) && !(await restartAfterExit(plan, unit, process.pid, log))) return 0;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

process.exitCode = await main(process.argv.slice(2));
