// On an IPv6-only web-arm, can the live containers (podman's default network, IPv4 only)
// still reach an IPv4-only destination? Only through a CLAT (464xlat) on the host and the
// router's NAT64; a capture shows nothing but IPv6 leaving the host, and the trade-off holds:
// they still have no IPv6.
import { scenario } from '../lab/scenario/define.ts';
import { checkXlatDefaultV4 } from './lib/xlat.ts';

scenario('xlat-default-v4', async (t) => {
  await checkXlatDefaultV4(t);
});
