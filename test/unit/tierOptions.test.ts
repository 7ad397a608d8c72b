import { describe, expect, it } from 'vitest';
import { parseCommon } from '../../lab/cli/options.ts';
import { ConfigError } from '../../lab/errors.ts';
import { thrown } from './helpers/golden.ts';

describe('--host and --guest', () => {
  it('default to the netns tier with no guest OS of its own (debian stands for "not NixOS")', () => {
    expect(parseCommon([]).config.lab).toMatchObject({ tier: 'netns', guest: 'debian' });
  });

  it('--host vagrant means a NixOS guest', () => {
    expect(parseCommon(['--host', 'vagrant']).config.lab).toMatchObject({ tier: 'vagrant', guest: 'nixos' });
    expect(parseCommon(['--host', 'vagrant', '--guest', 'nixos']).config.lab.guest).toBe('nixos');
  });

  it('--guest nixos on the qemu tier', () => {
    expect(parseCommon(['--host', 'qemu', '--guest', 'nixos']).config.lab).toMatchObject({ tier: 'qemu', guest: 'nixos' });
    expect(parseCommon(['--set', 'lab.tier=qemu', '--set', 'lab.guest=nixos']).config.lab.guest).toBe('nixos');
  });

  it('refuses a guest the tier cannot have, naming lab.guest and the fix', () => {
    for (const [args, why] of [
      [['--host', 'vagrant', '--guest', 'debian'], /NixOS box/],
      [['--guest', 'nixos'], /netns tier has no guest OS/],
      [['--set', 'lab.tier=vagrant'], /--host vagrant sets it/],
    ] as const) {
      const error = thrown(() => parseCommon([...args]));
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe('lab.guest');
      expect((error as ConfigError).message).toMatch(why);
    }
  });
});
