// web-arm reboots; everything above holds again, probed as soon as multi-user.target is
// reached (which catches ordering races between the network's ensure unit and the containers).
// On the qemu and vagrant tiers the reboot is real (the guest's systemd; vagrant reload). On
// the netns tier it is emulated:
// namespaces and kernel state are destroyed and recreated, /run is wiped, podman's storage is
// kept, and the units start again in unit order.
import { existsSync, statSync } from 'node:fs';
import { rebootWebArm } from '../lab/lifecycle/reboot.ts';
import { silentProgress } from '../lab/progress.ts';
import { scenario } from '../lab/scenario/define.ts';
import {
  checkEgressNat66,
  checkEgressV4,
  checkHostUnchanged,
  checkIsolationDefault,
  checkRedeployIdempotent,
  facts,
  networkCli,
  networkIdentity,
} from './lib/checks.ts';

async function webArmNamespaceInode(plan: { webArm: { netnsPath: string } }): Promise<string> {
  return existsSync(plan.webArm.netnsPath) ? String(statSync(plan.webArm.netnsPath).ino) : '0';
}

scenario({ id: 'idempotent-reboot', title: 'after a reboot everything holds again' }, async (t) => {
  const plan = t.lab.plan;
  const f = facts(t);
  const networkId = await networkIdentity(t);
  const identity = () => (t.tier !== 'netns' ? t.lab.webArm.succeed('cat /proc/sys/kernel/random/boot_id') : webArmNamespaceInode(plan));
  const before = (await identity()).trim();
  if (t.tier === 'netns') t.emulated('reboot');
  const result = await rebootWebArm(plan.name, silentProgress);
  const after = (await identity()).trim();
  t.observe(
    t.tier !== 'netns' ? 'web-arm rebooted: the kernel has a new boot id' : 'web-arm rebooted: its network namespace is a new one',
    'lab',
    t.tier !== 'netns'
      ? `lab reboot (real: ${t.tier === 'vagrant' ? 'vagrant reload' : 'systemctl reboot in the guest'}, then multi-user.target); cat /proc/sys/kernel/random/boot_id`
      : 'lab reboot (emulated: units stopped, processes killed, namespaces recreated, /run wiped, storage kept)',
    t.tier !== 'netns' ? 'a different boot id' : 'a different namespace inode',
    `before ${before}, after ${after} (boot #${result.boots + 1}, ${Math.round(result.durationMs / 1000)} s, ${result.realism})`,
    after !== '' && after !== '0' && after !== before,
  );
  const networkIdAfter = await networkIdentity(t);
  t.observe(`${f.network} survived the reboot with the same ID and subnets`, 'web-arm', `${networkCli(t)} network inspect ${f.network}`, networkId, networkIdAfter, networkId === networkIdAfter);

  await checkEgressNat66(t, { capture: true });
  await checkEgressV4(t);
  await checkHostUnchanged(t, ['after-apply', 'after-first-container', 'after-reboot']);
  await checkRedeployIdempotent(t, 1);
  await checkIsolationDefault(t);
  t.summary = `after a${t.tier !== 'netns' ? ' real' : 'n emulated'} reboot: NAT66 + v4 egress, isolation, host state and redeploy all hold`;
});
