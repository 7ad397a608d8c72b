// The same probe still reaches the IPv4-only internet, masqueraded to web-arm's IPv4.
import { scenario } from '../lab/scenario/define.ts';
import { checkEgressV4 } from './lib/checks.ts';

scenario({ id: 'egress-v4', title: "IPv4 egress: the v4-only target sees web-arm's IPv4" }, async (t) => {
  await checkEgressV4(t);
});
