// web-arm reboots; everything above holds again. On the netns tier the reboot is emulated:
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
} from './lib/checks.ts';

scenario({ id: 'idempotent-reboot', title: 'after a reboot everything holds again' }, async (t) => {
  const plan = t.lab.plan;
  const f = facts(t);
  const networkId = (await t.lab.webArm.succeed(`podman network inspect ${f.network} --format '{{.ID}}'`)).trim();
  const nsBefore = statSync(plan.webArm.netnsPath).ino;
  t.emulated('reboot');
  const result = await rebootWebArm(plan.name, silentProgress);
  const nsAfter = existsSync(plan.webArm.netnsPath) ? statSync(plan.webArm.netnsPath).ino : 0;
  t.observe(
    'web-arm rebooted: its network namespace is a new one',
    'lab',
    'lab reboot (emulated: units stopped, processes killed, namespaces recreated, /run wiped, storage kept)',
    'a different namespace inode',
    `before ${nsBefore}, after ${nsAfter} (boot #${result.boots + 1})`,
    nsAfter !== 0 && nsAfter !== nsBefore,
  );
  const networkIdAfter = (await t.lab.webArm.succeed(`podman network inspect ${f.network} --format '{{.ID}}'`)).trim();
  t.observe(`${f.network} survived the reboot with the same ID`, 'web-arm', `podman network inspect ${f.network}`, networkId.slice(0, 12), networkIdAfter.slice(0, 12), networkId === networkIdAfter);

  await checkEgressNat66(t, { capture: true });
  await checkEgressV4(t);
  await checkHostUnchanged(t, ['after-apply', 'after-first-container', 'after-reboot']);
  await checkRedeployIdempotent(t, 1);
  await checkIsolationDefault(t);
  t.summary = 'after an emulated reboot: NAT66 + v4 egress, isolation, host state and redeploy all hold';
});
