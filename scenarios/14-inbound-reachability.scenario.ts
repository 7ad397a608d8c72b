// From the internet, is the container itself reachable (its address and a port it listens
// on)? For a routed design this is the point; for NAT66 the design declares it fails.
import { scenario } from '../lab/scenario/define.ts';
import { checkInboundReachability } from './lib/checks.ts';

scenario('inbound-reachability', async (t) => {
  await checkInboundReachability(t);
});
