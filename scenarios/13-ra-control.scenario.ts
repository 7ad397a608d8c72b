// Why web-arm's static IPv6 setup matters: on a host that learns its route from router
// advertisements, forwarding=1 (as NAT66 needs) loses that route unless accept_ra=2.
import { scenario } from '../lab/scenario/define.ts';
import { storyRaControl } from './lib/raControl.ts';

scenario('ra-control', async (t) => {
  await storyRaControl(t);
});
