// A container on v6egress reaches a v6-only destination; the destination sees web-arm's GUA,
// and no ULA source ever leaves the host (a capture on the router's link proves it).
import { scenario } from '../lab/scenario/define.ts';
import { checkEgressNat66 } from './lib/checks.ts';

scenario('egress-nat66', async (t) => {
  await checkEgressNat66(t, { capture: true });
});
