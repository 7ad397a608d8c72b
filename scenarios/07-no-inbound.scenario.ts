// NAT66 is egress-only: from the internet nothing reaches the probe, which publishes no port.
import { scenario } from '../lab/scenario/define.ts';
import { checkNoInbound } from './lib/checks.ts';

scenario('no-inbound', async (t) => {
  await checkNoInbound(t);
});
