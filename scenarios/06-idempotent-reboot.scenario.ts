// web-arm reboots; everything above holds again, probed as soon as multi-user.target is
// reached (which catches ordering races between the network's ensure unit and the containers).
// On the qemu and vagrant tiers the reboot is real (the guest's systemd; vagrant reload). On
// the netns tier it is emulated:
// namespaces and kernel state are destroyed and recreated, /run is wiped, podman's storage is
// kept, and the units start again in unit order.
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

scenario('idempotent-reboot', async (t) => {
  const f = facts(t);
  const networkId = await networkIdentity(t);
  if (!t.lab.capabilities.realReboot) t.emulated('reboot');
  const reboot = await t.lab.reboot();
  t.observe(
    `web-arm rebooted: its ${reboot.identity} is a new one`,
    'lab',
    `lab reboot (${reboot.realism}: ${reboot.how})`,
    `a different ${reboot.identity}`,
    `before ${reboot.before}, after ${reboot.after} (boot #${reboot.boots + 1}, ${Math.round(reboot.durationMs / 1000)} s, ${reboot.realism})`,
    reboot.after !== '' && reboot.after !== '0' && reboot.after !== reboot.before,
  );
  const networkIdAfter = await networkIdentity(t);
  t.observe(`${f.network} survived the reboot with the same ID and subnets`, 'web-arm', `${networkCli(t)} network inspect ${f.network}`, networkId, networkIdAfter, networkId === networkIdAfter);

  await checkEgressNat66(t, { capture: true });
  await checkEgressV4(t);
  await checkHostUnchanged(t, ['after-apply', 'after-first-container', 'after-reboot']);
  await checkRedeployIdempotent(t, 1);
  await checkIsolationDefault(t);
  t.summary = `after a${reboot.realism === 'real' ? ' real' : 'n emulated'} reboot: NAT66 + v4 egress, isolation, host state and redeploy all hold`;
});
