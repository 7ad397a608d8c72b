// A container on v6egress reaches a v6-only destination; the destination sees web-arm's GUA,
// and no ULA source ever leaves the host (a capture on the router's link proves it).
import { scenario } from '../lab/scenario/define.ts';
import { checkEgressNat66 } from './lib/checks.ts';

scenario({ id: 'egress-nat66', title: 'NAT66 egress: the v6-only target sees the host GUA' }, async (t) => {
  await checkEgressNat66(t, { capture: true });
});
