// Does the design reach into the host's own /64 (addresses, routes, neighbour proxies)? The
// production decision rests on NAT66 leaving it alone.
import { scenario } from '../lab/scenario/define.ts';
import { checkHost64Untouched } from './lib/checks.ts';

scenario('host-64-touched', async (t) => {
  await checkHost64Untouched(t);
});
