// From the internet, is the container itself reachable (its address and a port it listens
// on)? For a routed design this is the point; for NAT66 the design declares it fails.
import { scenario } from '../lab/scenario/define.ts';
import { checkInboundReachability } from './lib/checks.ts';

scenario({ id: 'inbound-reachability', title: "the container's own address is reachable from the internet" }, async (t) => {
  await checkInboundReachability(t);
});
