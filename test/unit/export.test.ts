import { afterEach, describe, expect, it, vi } from 'vitest';
import { guestArchOf } from '../../lab/tiers/qemu/guestPower.ts';
import { exportVerb } from '../../lab/cli/export.ts';
import { VERBS } from '../../lab/cli/verbs.ts';
import { ConfigError, UsageError } from '../../lab/errors.ts';
import { nodeImageTag } from '../../lab/images/recipe.ts';
import { nixosLayout, renderNixosModule } from '../../lab/nixos/module.ts';
import { checkExportDesign, exportFormats, getExportFormat } from '../../lab/nixos/export.ts';
import { planDesign } from '../../lab/designs/registry.ts';
import { defaultConfig } from '../../lab/topology/config.ts';
import { thrown } from './helpers/golden.ts';

async function exportOutput(args: string[]): Promise<string> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    expect(await exportVerb.run(args)).toBe(0);
  } finally {
    spy.mockRestore();
  }
  return out;
}

afterEach(() => vi.restoreAllMocks());

describe('lab export', () => {
  it('is a registered verb', () => {
    expect(VERBS.export).toBe(exportVerb);
  });

  it('prints the v6egress NixOS module with the image lab up gives the probe', async () => {
    const config = defaultConfig();
    const image = nodeImageTag(config.image.suite, config.image.mirror, guestArchOf(config));
    expect(image).toMatch(/^localhost\/v6lab-node:[0-9a-f]{12}$/);
    const layout = nixosLayout(image);
    expect(await exportOutput(['nixos', 'v6egress'])).toBe(renderNixosModule(planDesign(config, layout), layout, 'pnpm lab export nixos v6egress'));
  });

  it('takes design params as lab up does and names them in the header', async () => {
    const text = await exportOutput(['nixos', 'v6egress', '--set', 'design.params.ipv6Subnet=fd00:1:2::/64']);
    expect(text).toContain('(pnpm lab export nixos v6egress --set design.params.ipv6Subnet=fd00:1:2::/64)');
    expect(text).toContain('--subnet fd00:1:2::/64 v6egress\n');
  });

  it("prints the VM's host module (nixos-vm), importing the design's module", async () => {
    const text = await exportOutput(['nixos-vm', 'v6egress']);
    expect(text).toContain('  imports = [ ./v6egress.nix ];');
    expect(text).toContain('(pnpm lab export nixos-vm v6egress)');
  });

  it('rejects bad params with the ConfigError lab up gives', async () => {
    const error = await exportVerb.run(['nixos', 'v6egress', '--set', 'design.params.ipv6Subnet=2001:db8::/64']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('design.params.ipv6Subnet');
    const unknown = await exportVerb.run(['nixos', 'v6egress', '--set', 'design.params.subnet=x']).catch((e: unknown) => e);
    expect((unknown as ConfigError).field).toBe('design.params.subnet');
  });

  it('lists the known formats for an unknown or missing one', () => {
    expect(exportFormats().map((f) => f.name)).toContain('nixos');
    for (const name of ['yaml', undefined]) {
      const error = thrown(() => getExportFormat(name));
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toMatch(/Formats: nixos, nixos-vm\./);
      expect((error as UsageError).exitCode).toBe(2);
    }
  });

  it('lists the designs a format renders for an unknown, missing or unrendered design', () => {
    const nixos = getExportFormat('nixos');
    expect(checkExportDesign(nixos, 'v6egress')).toBe('v6egress');
    const messages = ['nope', undefined, 'routed-subprefix'].map((d) => (thrown(() => checkExportDesign(nixos, d)) as UsageError).message);
    expect(messages[0]).toMatch(/^Unknown design "nope"\. Designs the nixos format renders: v6egress/);
    expect(messages[1]).toMatch(/^No design given/);
    expect(messages[2]).toMatch(/^The nixos format has no rendering of the routed-subprefix design\. Designs the nixos format renders: v6egress/);
  });

  it('rejects extra arguments', async () => {
    await expect(exportVerb.run(['nixos', 'v6egress', 'more'])).rejects.toBeInstanceOf(UsageError);
  });
});
