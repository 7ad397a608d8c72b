// Another network already holds v6egress's IPv4 subnet or ULA: the ensure step fails visibly
// and the container that needs the network does not start half-configured.
import { scenario } from '../lab/scenario/define.ts';
import { storySubnetCollision } from './lib/faults.ts';

scenario('subnet-collision', async (t) => {
  await storySubnetCollision(t);
});
