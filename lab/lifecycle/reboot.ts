/**
 * `lab reboot`: web-arm's reboot, as its tier does it (real where the tier has it: the guest's
 * systemd, `vagrant reload`; emulated on the netns tier), then the baselines scenarios declared
 * for "after-reboot" (the containers were restarted by the boot, as on a real host).
 */
import type { RebootResult } from '../nodes/machine.ts';
import type { Progress } from '../progress.ts';
import { takeBaselines } from '../scenario/baselines.ts';
import { requireUpState, updateState } from '../state/store.ts';
import { attachWebArm } from '../tiers/registry.ts';
import { planLab } from '../topology/plan.ts';

export interface LabRebootResult extends RebootResult {
  boots: number;
}

export async function rebootWebArm(name: string, progress: Progress): Promise<LabRebootResult> {
  const state = requireUpState(name);
  const plan = planLab(state.config);
  const webArm = attachWebArm(plan, state);
  const result = await webArm.machine.reboot(progress);
  await takeBaselines('after-reboot', { plan, webArm, progress });
  const after = updateState(name, (s) => {
    s.boots += 1;
  });
  return { ...result, boots: after.boots };
}
