// The probe's resolver is aardvark-dns on the v6egress bridge. NixOS's firewall does not open
// 53/udp there (nixpkgs' podman module opens only podman0, and only with DNS on the default
// network): where netavark accepts DNS itself it still answers (netavark 1.14; on netns the lab's
// netavark wrapper adds 1.14's rules, an emulated step); where it does not (a bare netavark 1.4,
// nixpkgs#272480) it does not, and the fix (53/udp on podman+) is applied, proven, taken back.
import { scenario } from '../lab/scenario/define.ts';
import { storyContainerDns } from './lib/faults.ts';

scenario('container-dns', async (t) => {
  await storyContainerDns(t);
});
