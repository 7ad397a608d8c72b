// web-arm reboots; every property the lab reads (egress, the live containers' isolation,
// web-arm's uplink, the design network, the rules, the containers running) is after the reboot
// what it was before, read as soon as multi-user.target is reached (which catches ordering
// races between the network's ensure unit and the containers); and a redeploy after it changes
// nothing. The verdict is before = after: a design whose egress fails fails it before and after.
// On the qemu and vagrant tiers the reboot is real (the guest's systemd; vagrant reload). On
// the netns tier it is emulated: namespaces and kernel state are destroyed and recreated, /run
// is wiped, podman's storage is kept, and the units start again in unit order.
import { scenario } from '../lab/scenario/define.ts';
import { checkRedeployIdempotent } from './lib/checks.ts';
import { observeUnchanged, readProperties } from './lib/idempotency.ts';

scenario('idempotent-reboot', async (t) => {
  if (!t.lab.capabilities.realReboot) t.emulated('reboot');
  const before = await readProperties(t, 'reboot');
  const reboot = await t.lab.reboot();
  t.observe(
    `web-arm rebooted: its ${reboot.identity} is a new one`,
    'lab',
    `lab reboot (${reboot.realism}: ${reboot.how})`,
    `a different ${reboot.identity}`,
    `before ${reboot.before}, after ${reboot.after} (boot #${reboot.boots + 1}, ${Math.round(reboot.durationMs / 1000)} s, ${reboot.realism})`,
    reboot.after !== '' && reboot.after !== '0' && reboot.after !== reboot.before,
  );
  const after = await readProperties(t, 'reboot');
  observeUnchanged(t, 'reboot', before, after);
  await checkRedeployIdempotent(t, 1);
  t.summary = `after a${reboot.realism === 'real' ? ' real' : 'n emulated'} reboot: all ${after.length} properties as before; a redeploy changes nothing`;
});
