// From the probe, names resolve through aardvark-dns on the v6egress bridge while the
// NixOS-like firewall is active; a firewall that drops 53/udp on the bridge breaks it
// (nixpkgs#272480), and the scenario names the fix.
import { scenario } from '../lab/scenario/define.ts';
import { storyContainerDns } from './lib/faults.ts';

scenario('container-dns', async (t) => {
  await storyContainerDns(t);
});
