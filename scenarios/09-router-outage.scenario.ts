// The link between web-arm and the router is cut mid-run and restored: egress comes back by
// itself, without re-applying anything.
import { scenario } from '../lab/scenario/define.ts';
import { storyRouterOutage } from './lib/faults.ts';

scenario('router-outage', async (t) => {
  await storyRouterOutage(t);
});
