// The nspawn gotcha (seed 001): a port forward (`systemd-nspawn --port`) lives in the
// io.systemd.nat nftables table, whose DNAT runs at priority dstnat+1 before the host
// firewall's filter; the forwarded connection is then routed (FORWARD), never seen by the
// INPUT chain the NixOS firewall guards. A port the firewall would drop answers anyway.
import { scenario } from '../lab/scenario/define.ts';
import { checkPortForwardBypassesFirewall, isNspawnDesign } from './lib/nspawn.ts';

scenario(
  {
    id: 'nspawn-port-forward',
    title: 'an nspawn port forward answers where the host firewall would drop it (io.systemd.nat)',
    tiers: { only: ['qemu'], why: 'systemd-nspawn needs the guest\'s real systemd' },
    variant: { test: (c) => isNspawnDesign(c.design.name), why: 'a story of the systemd-nspawn designs (their --port forward)' },
  },
  async (t) => {
    await checkPortForwardBypassesFirewall(t);
  },
);
