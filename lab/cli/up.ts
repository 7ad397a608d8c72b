import { labDown } from '../lifecycle/down.ts';
import { labUp } from '../lifecycle/up.ts';
import { describeGuestStart, readState } from '../state/store.ts';
import { createProgress, formatDuration } from '../progress.ts';
import { onInterrupt } from './interrupt.ts';
import { parseCommon } from './options.ts';
import type { Verb } from './verb.ts';
import { OPT } from './usage.ts';

export const upVerb: Verb = {
  summary: 'bring up the lab (--host netns, the default, qemu or vagrant) and apply the design',
  usage: 'pnpm lab up [--name NAME] [--host netns|qemu|vagrant] [--guest debian|nixos] [--arch x86_64|aarch64] [--no-snapshot] [--no-design-snapshot] [--set path=value …] [--json] [--verbose]',
  options: [OPT.name, OPT.host, OPT.guest, OPT.arch, OPT.noSnapshot, OPT.noDesignSnapshot, OPT.set, OPT.json, OPT.verbose],
  example: 'pnpm lab up --name h18 --set design.name=routed-subprefix',
  async run(args) {
    const options = parseCommon(args, { 'no-snapshot': { type: 'boolean' }, 'no-design-snapshot': { type: 'boolean' } });
    const progress = createProgress();
    const interrupt = onInterrupt('stopping after the current step and cleaning up');
    const started = performance.now();
    try {
      const { state, alreadyUp } = await labUp(options.config, progress, interrupt.signal);
      const took = formatDuration(performance.now() - started);
      if (options.json) process.stdout.write(`${JSON.stringify({ lab: state.name, alreadyUp, durationMs: Math.round(performance.now() - started), state }, null, 2)}\n`);
      else if (!alreadyUp) {
        process.stdout.write(
          `lab "${state.name}" is up on the ${state.tier} tier${state.guest ? ` (${state.guest.arch} guest, ${state.guest.accel}, ${describeGuestStart(state.guest)})` : ''} in ${took}: design ${state.design?.name} applied.\n` +
            `engine: ${state.engine?.description}\nNext: pnpm lab test${state.name === 'main' ? '' : ` --name ${state.name}`}\n`,
        );
      }
      return 0;
    } catch (error) {
      // Only what this `up` started creating is removed: bad input fails before that, and a
      // lab that was already up is never touched.
      // V6LAB_KEEP_FAILED=1 leaves a failed lab for inspection (`pnpm lab down` removes it).
      if (readState(options.config.lab.name)?.phase === 'creating' && process.env.V6LAB_KEEP_FAILED === '1' && !interrupt.signal.aborted) {
        process.stderr.write(`\nup failed: V6LAB_KEEP_FAILED=1 keeps what was created; remove it with pnpm lab down --name ${options.config.lab.name}\n`);
      } else if (readState(options.config.lab.name)?.phase === 'creating') {
        process.stderr.write(`\nup ${interrupt.signal.aborted ? 'interrupted' : 'failed'}: removing what was created (lab down)\n`);
        await labDown(options.config, progress).catch((e: unknown) => process.stderr.write(`cleanup: ${(e as Error).message}\n`));
      }
      if (interrupt.signal.aborted) {
        process.stderr.write('v6lab: interrupted; nothing of the lab is left\n');
        return 130;
      }
      throw error;
    } finally {
      interrupt.dispose();
    }
  },
};
