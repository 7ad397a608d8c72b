/**
 * `lab reboot`: web-arm's reboot. On the qemu tier it is real: the guest's systemd reboots it
 * and the lab waits for multi-user.target; on the vagrant tier it is `vagrant reload`. On the netns tier it is emulated: units stop in
 * reverse order, every process dies, the namespaces and all kernel and runtime state are
 * destroyed and recreated, persistent podman state is kept, then the units start again.
 */
import type { Realism } from '../report/model.ts';
import { rebootGuest } from '../tiers/qemu/guestPower.ts';
import { rebootVagrant } from '../tiers/vagrant/vagrantPower.ts';
import { vagrantChoiceOf } from '../tiers/vagrant/vagrantSystem.ts';
import { webArmSystem } from '../nodes/webArmSystem.ts';
import type { Progress } from '../progress.ts';
import { requireUpState, updateState } from '../state/store.ts';
import { planLab } from '../topology/plan.ts';
import { powerOffWebArm, powerOnWebArm } from '../tiers/netns/power.ts';
import { saveSnapshot, takeHostSnapshot } from '../scenario/observe/hostSnapshot.ts';
import { saveWorkloadSnapshot, takeWorkloadSnapshot } from '../scenario/observe/workloadSnapshot.ts';

export interface RebootResult {
  boots: number;
  realism: Realism;
  /** What shows that web-arm really went down and came back (a new namespace, a new boot id). */
  proof: string;
  durationMs: number;
}

export async function rebootWebArm(name: string, progress: Progress): Promise<RebootResult> {
  const state = requireUpState(name);
  const plan = planLab(state.config);
  if (!state.image) throw new Error('lab state has no image');
  const image = state.image;
  const started = performance.now();
  let realism: Realism = 'emulated';
  let proof: string;
  if (state.tier === 'vagrant') {
    const r = await progress.step('reboot web-arm (real: vagrant reload)', () => rebootVagrant(plan, vagrantChoiceOf(plan), progress));
    realism = 'real';
    proof = `boot id ${r.bootIdBefore} → ${r.bootIdAfter}`;
  } else if (state.tier === 'qemu') {
    const r = await progress.step('reboot web-arm (real: the guest reboots)', () => rebootGuest(plan, progress));
    realism = 'real';
    proof = `boot id ${r.bootIdBefore} → ${r.bootIdAfter}`;
  } else {
    await progress.step('reboot web-arm (emulated on the netns tier)', async () => {
      await powerOffWebArm(plan, progress);
      await powerOnWebArm(plan, image, progress);
    });
    proof = 'namespaces destroyed and recreated';
  }
  const durationMs = Math.round(performance.now() - started);
  // New baselines: the containers were restarted by the boot, as on a real host.
  const webArm = webArmSystem(plan).machine;
  saveSnapshot(plan.stateDir, await takeHostSnapshot(webArm, state.config.webArm.uplink, 'after-reboot'));
  saveWorkloadSnapshot(plan.stateDir, await takeWorkloadSnapshot(webArm, 'after-reboot'));
  const after = updateState(name, (s) => {
    s.boots += 1;
  });
  return { boots: after.boots, realism, proof, durationMs };
}
