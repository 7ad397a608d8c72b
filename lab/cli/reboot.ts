import { rebootWebArm } from '../lifecycle/reboot.ts';
import { createProgress } from '../progress.ts';
import { parseCommon } from './options.ts';
import type { Verb } from './verb.ts';
import { OPT } from './usage.ts';

export const rebootVerb: Verb = {
  summary: 'reboot web-arm (real on the qemu tier, emulated on the netns tier)',
  usage: 'pnpm lab reboot [--name NAME]',
  options: [OPT.name, OPT.json, OPT.verbose],
  example: 'pnpm lab reboot',
  async run(args) {
    const options = parseCommon(args);
    const result = await rebootWebArm(options.config.lab.name, createProgress());
    process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `web-arm rebooted (${result.realism}: ${result.how}; ${result.identity} ${result.before} → ${result.after}) in ${Math.round(result.durationMs / 1000)} s; boots since up: ${result.boots}\n`);
    return 0;
  },
};
