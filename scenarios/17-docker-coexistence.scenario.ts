// dockerd beside podman (production enables both): podman's containers keep their IPv4 and
// IPv6 egress and published ports, as brought up, after a docker restart and after a reboot;
// where they do not, the rule that drops is shown and the design's fix is proven.
import { scenario } from '../lab/scenario/define.ts';
import { storyDockerCoexistence } from './lib/dockerCoexistence.ts';

scenario(
  {
    id: 'docker-coexistence',
    title: "podman's containers keep working beside dockerd",
    tiers: { only: ['qemu'], why: 'dockerd is real only in the qemu guest (the netns tier has none)' },
    // Two docker restarts and a real reboot (each a few minutes under TCG), the fix proven after.
    timeoutMs: 30 * 60_000,
    appliesTo: (lab) => (lab.state.config.webArm.docker.enabled ? undefined : 'dockerd is off (webArm.docker.enabled=false)'),
  },
  async (t) => {
    await storyDockerCoexistence(t);
  },
);
