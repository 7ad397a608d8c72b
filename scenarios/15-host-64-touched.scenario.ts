// Does the design reach into the host's own /64 (addresses, routes, neighbour proxies)? The
// production decision rests on NAT66 leaving it alone.
import { scenario } from '../lab/scenario/define.ts';
import { checkHost64Untouched } from './lib/checks.ts';

scenario({ id: 'host-64-touched', title: "the host's /64 is left alone" }, async (t) => {
  await checkHost64Untouched(t);
});
