// Deploying the same configuration twice more changes nothing and egress still works.
import { scenario } from '../lab/scenario/define.ts';
import { checkEgressNat66, checkRedeployIdempotent } from './lib/checks.ts';

scenario('idempotent-redeploy', async (t) => {
  await checkRedeployIdempotent(t, 2);
  await checkEgressNat66(t, { capture: false });
  t.summary = 'two more applies: one network, same ID/subnets, no new rules, no restarts; egress passes';
});
