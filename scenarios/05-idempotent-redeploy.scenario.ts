// Deploying the same configuration twice more changes nothing: no unit starts, one network
// with the same ID, no new or duplicated rules, no restarts; and every property the lab reads
// (egress, the live containers' isolation, web-arm's uplink, the network, the rules, the
// containers running) is after the redeploy what it was before, whatever it was.
import { scenario } from '../lab/scenario/define.ts';
import { checkRedeployIdempotent } from './lib/checks.ts';
import { observeUnchanged, readProperties } from './lib/idempotency.ts';

scenario('idempotent-redeploy', async (t) => {
  const before = await readProperties(t, 'redeploy');
  await checkRedeployIdempotent(t, 2);
  const after = await readProperties(t, 'redeploy');
  observeUnchanged(t, 'redeploy', before, after);
  t.summary = `two more applies: one network, same ID/subnets, no new rules, no restarts; all ${after.length} properties as before`;
});
