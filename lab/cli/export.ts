import { nodeImageTag } from '../images/recipe.ts';
import { validateDesign } from '../designs/registry.ts';
import { webArmImageArch } from '../images/arch.ts';
import { UsageError } from '../errors.ts';
import { checkExportDesign, getExportFormat } from '../nixos/export.ts';
import { parseCommon } from './options.ts';
import type { Verb } from './verb.ts';
import { OPT } from './usage.ts';

export const exportVerb: Verb = {
  summary: "print a design rendered for a host outside the lab (nixos: the NixOS module; nixos-vm: the lab VM's host side, importing it)",
  usage: 'pnpm lab export nixos|nixos-vm <design> [--set design.params.name=value …] | pnpm lab export nixos|nixos-vm --list',
  options: [OPT.set, ['--list', 'print the designs the format renders, one a line (the nightly exports and evaluates each)']],
  example: 'pnpm lab export nixos v6egress --set design.params.strictEnsure=true',
  async run(args) {
    const options = parseCommon(args, { list: { type: 'boolean' } });
    const [formatName, designName, ...extra] = options.positionals;
    const format = getExportFormat(formatName);
    if (options.flags.list === true) {
      if (designName !== undefined) throw new UsageError(`--list prints every design the ${format.name} format renders. Fix: drop "${designName}"`);
      process.stdout.write(format.designs.map((d) => `${d}\n`).join(''));
      return 0;
    }
    const design = checkExportDesign(format, designName);
    if (extra.length) throw new UsageError(`Unexpected argument "${extra[0]}". Usage: ${exportVerb.usage}`);
    const config = { ...options.config, design: { ...options.config.design, name: design } };
    // The params are checked as `lab up` checks them (ConfigError naming the field and the fix).
    validateDesign(config);
    const command = ['pnpm lab export', ...args.filter((a) => a !== '--verbose' && a !== '-v')].join(' ');
    // The probe runs the node image built for web-arm's architecture (lab.arch).
    process.stdout.write(format.render(config, nodeImageTag(config.image.suite, config.image.mirror, webArmImageArch(config)), command));
    return 0;
  },
};
