/**
 * `lab reboot`: web-arm's reboot. On the netns tier it is emulated: units stop in reverse
 * order, every process dies, the namespaces and all kernel and runtime state are destroyed and
 * recreated, persistent podman state is kept, then the units start again in unit order.
 */
import type { Progress } from '../progress.ts';
import { requireUpState, updateState } from '../state/store.ts';
import { planLab } from '../topology/plan.ts';
import { powerOffWebArm, powerOnWebArm } from './webArmPower.ts';
import { webArmMachine } from '../nodes/webArm/webArm.ts';
import { saveSnapshot, takeHostSnapshot } from '../state/hostSnapshot.ts';
import { saveWorkloadSnapshot, takeWorkloadSnapshot } from '../state/workloadSnapshot.ts';

export async function rebootWebArm(name: string, progress: Progress): Promise<{ boots: number; realism: 'emulated' }> {
  const state = requireUpState(name);
  const plan = planLab(state.config);
  if (!state.image) throw new Error('lab state has no image');
  const image = state.image;
  await progress.step('reboot web-arm (emulated on the netns tier)', async () => {
    await powerOffWebArm(plan, progress);
    await powerOnWebArm(plan, image, progress);
  });
  // New baselines: the containers were restarted by the boot, as on a real host.
  saveSnapshot(plan.stateDir, await takeHostSnapshot(webArmMachine(plan), state.config.webArm.uplink, 'after-reboot'));
  saveWorkloadSnapshot(plan.stateDir, await takeWorkloadSnapshot(plan, 'after-reboot'));
  const after = updateState(name, (s) => {
    s.boots += 1;
  });
  return { boots: after.boots, realism: 'emulated' };
}
