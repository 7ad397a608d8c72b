// The probe's resolver is aardvark-dns on the v6egress bridge. NixOS's firewall does not open
// 53/udp there (nixpkgs' podman module opens only podman0, and only with DNS on the default
// network): where netavark accepts DNS itself it still answers; where it does not (netavark 1.4,
// nixpkgs#272480) it does not, and the fix (53/udp on podman+) is applied, proven, taken back.
import { scenario } from '../lab/scenario/define.ts';
import { storyContainerDns } from './lib/faults.ts';

scenario('container-dns', async (t) => {
  await storyContainerDns(t);
});
