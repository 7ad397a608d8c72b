// dockerd beside podman (production enables both): podman's containers keep their IPv4 and
// IPv6 egress and published ports, as brought up, after a docker restart and after a reboot;
// where they do not, the rule that drops is shown and the design's fix is proven.
import { scenario } from '../lab/scenario/define.ts';
import { storyDockerCoexistence } from './lib/dockerCoexistence.ts';

scenario('docker-coexistence', async (t) => {
  await storyDockerCoexistence(t);
});
