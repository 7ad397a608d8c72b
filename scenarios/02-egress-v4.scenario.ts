// The same probe still reaches the IPv4-only internet, masqueraded to web-arm's IPv4.
import { scenario } from '../lab/scenario/define.ts';
import { checkEgressV4 } from './lib/checks.ts';

scenario('egress-v4', async (t) => {
  await checkEgressV4(t);
});
