// A GUA sub-prefix delegated to an nspawn container's link, on Hetzner's on-link /64: the
// router asks for the container's address by neighbour solicitation on web-arm's link. With
// IPv6ProxyNDP=yes and the address on enp1s0 (networkd) it works; the entry removed, return
// traffic never arrives; networkd restores it.
import { scenario } from '../lab/scenario/define.ts';
import { checkDelegatedNeedsProxyNdp } from './lib/nspawn.ts';

scenario('nspawn-proxy-ndp', async (t) => {
  await checkDelegatedNeedsProxyNdp(t);
});
