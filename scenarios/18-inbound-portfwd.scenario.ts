// IPv6 port forwarding: a published port answers at [host GUA]:port, DNAT'ed to a container
// on a ULA network (which sees the client's own address); an unpublished port does not; and
// stopping the container removes the forwarding, leaving no rule behind.
import { scenario } from '../lab/scenario/define.ts';
import { storyInboundPortfwd } from './lib/inboundPortfwd.ts';

scenario('inbound-portfwd', async (t) => {
  await storyInboundPortfwd(t);
});
