// The nspawn gotcha (seed 001): a port forward (`systemd-nspawn --port`) lives in the
// io.systemd.nat nftables table, whose DNAT runs at priority dstnat+1 before the host
// firewall's filter; the forwarded connection is then routed (FORWARD), never seen by the
// INPUT chain the NixOS firewall guards. A port the firewall would drop answers anyway.
import { scenario } from '../lab/scenario/define.ts';
import { checkPortForwardBypassesFirewall } from './lib/nspawn.ts';

scenario('nspawn-port-forward', async (t) => {
  await checkPortForwardBypassesFirewall(t);
});
