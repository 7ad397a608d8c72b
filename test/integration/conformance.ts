/**
 * The conformance story every tier passes, through the Tier interface alone (no tier name is
 * compared here): start web-arm with the design applied, the Machine verbs (succeed, fail,
 * execute, waitUntilSucceeds, waitForUnit), its logs by name and its optional abilities
 * (console, snapshots) as its capabilities say, apply the design again (nothing restarts),
 * reboot (a new boot identity; real or emulated as the tier's capabilities say), the lab
 * attached from its record answers the same, destroy, nothing left. Tiers whose
 * prerequisites this machine lacks (the NixOS guest and the vagrant tier without Nix or a
 * NixOS box) are skipped with the reason their prerequisites check gives. Needs root. Each tier's case is a
 * file of its own (conformance-<tier>.test.ts): a process per lab, as the CLI runs them.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorLine } from '../../lab/errors.ts';
import { findLeaks, ownProcessTree, snapshotMachine, type MachineSnapshot } from '../../lab/host/leakCheck.ts';
import { applyDesign } from '../../lab/lifecycle/apply.ts';
import { labDown } from '../../lab/lifecycle/down.ts';
import { labUp } from '../../lab/lifecycle/up.ts';
import { silentProgress } from '../../lab/progress.ts';
import { readState, stateFile } from '../../lab/state/store.ts';
import { attachWebArm, getTier } from '../../lab/tiers/registry.ts';
import type { WebArm } from '../../lab/tiers/tier.ts';
import { defaultConfig, nativeArch, type LabConfig } from '../../lab/topology/config.ts';
import { planLab } from '../../lab/topology/plan.ts';
import { validateConfig } from '../../lab/topology/validate.ts';
import { waitUntil } from '../../lab/wait.ts';

const root = process.getuid?.() === 0;

export interface ConformanceCase {
  tier: string;
  guest: LabConfig['lab']['guest'];
  /** Why the case is off on this machine (an environment switch), if it is. */
  off?: string;
}

/** The tiers and guest kinds the suite runs on: every registered tier with each guest it has. */
export const CONFORMANCE_CASES: readonly ConformanceCase[] = [
  { tier: 'netns', guest: 'debian' },
  { tier: 'qemu', guest: 'debian' },
  { tier: 'qemu', guest: 'nixos' },
  { tier: 'vagrant', guest: 'nixos' },
];

function configFor(tier: string, guest: LabConfig['lab']['guest'], name: string): LabConfig {
  const base = defaultConfig();
  return validateConfig({ ...base, lab: { ...base.lab, name, tier: tier as LabConfig['lab']['tier'], guest, arch: nativeArch() } });
}

/** Registers the story for one tier and guest kind (call at a test file's top level). */
export function conformanceSuite(c: ConformanceCase): void {
  describe.runIf(root)(`tier conformance: ${c.tier} (${c.guest} guest)`, () => {
    const name = `cf${c.tier.slice(0, 2)}${c.guest.slice(0, 1)}${process.pid % 1000}`;
    const config = configFor(c.tier, c.guest, name);
    const tier = getTier(c.tier);
    let missing: string | undefined = c.off;
    let before: MachineSnapshot | undefined;
    let webArm: WebArm | undefined;

    beforeAll(async () => {
      if (!missing) missing = await tier.prerequisites(config).then(() => undefined, (error: unknown) => errorLine(error));
      if (missing) return;
      await labDown(config, silentProgress);
      before = await snapshotMachine();
    }, 60_000);

    afterAll(async () => {
      if (!missing) await labDown(config, silentProgress);
    }, 600_000);

    it('starts web-arm with the design applied, handed on in memory', async (ctx) => {
      if (missing) return ctx.skip(`prerequisites: ${missing}`);
      const up = await labUp(config, silentProgress);
      expect(up.alreadyUp).toBe(false);
      webArm = up.webArm;
      expect(webArm?.tier).toBe(tier.name);
      expect(webArm?.capabilities).toEqual(tier.capabilities(config));
      expect(webArm?.whereabouts()).toMatchObject({ kind: tier.name, present: true });
    }, 40 * 60_000);

    it('answers the Machine verbs: succeed, fail, execute, waitUntilSucceeds, waitForUnit', async (ctx) => {
      if (missing || !webArm) return ctx.skip(missing ? `prerequisites: ${missing}` : 'web-arm did not start');
      const m = webArm.machine;
      expect((await m.succeed('echo conformance')).trim()).toBe('conformance');
      expect(await m.fail('echo nope >&2; exit 3')).toContain('nope');
      await expect(m.succeed('exit 4')).rejects.toThrow(/exit code 4|exit 4/);
      await expect(m.fail('true')).rejects.toThrow(/expected to fail/);
      expect((await m.execute('exit 5')).exitCode).toBe(5);
      expect((await m.waitUntilSucceeds('test -d /etc', 10_000)).trim()).toBe('');
      const network = readState(name)?.design?.plan.networks[0]?.name ?? 'v6egress';
      await m.waitForUnit(`${network}-network.service`, 120_000);
      await expect(m.waitForUnit('v6lab-no-such.service', 3_000)).rejects.toThrow();
    }, 10 * 60_000);

    it("shows its logs by name and has the optional abilities its capabilities say", async (ctx) => {
      if (missing || !webArm) return ctx.skip(missing ? `prerequisites: ${missing}` : 'web-arm did not start');
      const own = await webArm.logs.find(webArm.machine.name);
      expect(own?.description).toBeTruthy();
      expect((await own!.read(20)).map((c) => c.text).join('')).not.toBe('');
      const container = await webArm.logs.find('collabora');
      expect(container?.description).toContain('collabora');
      await container!.read(5);
      expect(await webArm.logs.find('v6lab-nothing-here')).toBeUndefined();
      expect(await webArm.logs.known()).toContain(webArm.machine.name);
      // A console where web-arm is a VM: after a boot it has printed something.
      if (webArm.console) expect(webArm.console.consoleTail(5)).not.toBe('');
      // A tier that can save web-arm keeps what it saved where a person can list it.
      if (webArm.capabilities.snapshot) expect(tier.snapshots?.listSnapshots().length).toBeGreaterThan(0);
    }, 5 * 60_000);

    it('applies the design again like nixos-rebuild switch: nothing restarts', async (ctx) => {
      if (missing || !webArm) return ctx.skip(missing ? `prerequisites: ${missing}` : 'web-arm did not start');
      const state = readState(name)!;
      const again = await applyDesign(webArm, state.config, state.image?.tag ?? '', silentProgress);
      expect({ added: again.switch.added, changed: again.switch.changed, reloaded: again.switch.reloaded, removed: again.switch.removed, failed: again.switch.failed }).toEqual({ added: [], changed: [], reloaded: [], removed: [], failed: [] });
    }, 20 * 60_000);

    it('reboots with a new boot identity, real or emulated as its capabilities say, and is attached again from its record', async (ctx) => {
      if (missing || !webArm) return ctx.skip(missing ? `prerequisites: ${missing}` : 'web-arm did not start');
      const reboot = await webArm.machine.reboot(silentProgress);
      expect(reboot.after).not.toBe(reboot.before);
      expect(reboot.realism).toBe(webArm.capabilities.realReboot ? 'real' : 'emulated');
      const attached = attachWebArm(planLab(config), readState(name)!);
      expect(attached.tier).toBe(tier.name);
      expect((await attached.machine.succeed('echo again')).trim()).toBe('again');
      const network = readState(name)?.design?.plan.networks[0]?.name ?? 'v6egress';
      await attached.machine.waitForUnit(`${network}-network.service`, 300_000);
    }, 30 * 60_000);

    it('is destroyed by its marks: no state, nothing left on the machine', async (ctx) => {
      if (missing || !before) return ctx.skip(`prerequisites: ${missing ?? 'not started'}`);
      const own = ownProcessTree(String(process.ppid));
      await labDown(config, silentProgress);
      expect(existsSync(stateFile(name))).toBe(false);
      // conmon and podman's cleanup of a removed host container exit on their own within
      // seconds (containers.conf exit_command_delay = 10): nothing of the lab may be left after that.
      const left = await waitUntil(
        `nothing of lab ${name} left on the machine`,
        async () => {
          const leaks = findLeaks(before!, await snapshotMachine(), { ignorePids: own, lab: name });
          return leaks.length === 0 ? leaks : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 1_000 },
      ).catch(async () => findLeaks(before!, await snapshotMachine(), { ignorePids: own, lab: name }));
      expect(left).toEqual([]);
      // Twice is a no-op.
      await labDown(config, silentProgress);
    }, 10 * 60_000);
  });
}
