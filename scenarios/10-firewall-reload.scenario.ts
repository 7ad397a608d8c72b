// A switch that changes NixOS's iptables firewall reloads it (firewall-reload), and a restart
// rebuilds it: both leave netavark's rules alone; a reload that flushes the ruleset removes
// them (the ULA leaks, egress breaks) until
// `podman network reload --all`; the design option that reloads them after the firewall is proven.
import { scenario } from '../lab/scenario/define.ts';
import { storyFirewallReload } from './lib/faults.ts';

scenario('firewall-reload', async (t) => {
  await storyFirewallReload(t);
});
