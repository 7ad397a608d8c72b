// On an IPv6-only web-arm, can the live containers (podman's default network, IPv4 only)
// still reach an IPv4-only destination? Only through a CLAT (464xlat) on the host and the
// router's NAT64; a capture shows nothing but IPv6 leaving the host, and the trade-off holds:
// they still have no IPv6.
import { scenario } from '../lab/scenario/define.ts';
import { isV6Only } from '../lab/topology/v6only.ts';
import { checkXlatDefaultV4 } from './lib/xlat.ts';

scenario(
  {
    id: 'xlat-default-v4',
    title: 'IPv6-only host: default-network containers reach IPv4 through CLAT and NAT64',
    variant: { test: isV6Only, why: 'the story of an IPv6-only web-arm (--set topology.ipv4=false); this one has IPv4' },
  },
  async (t) => {
    await checkXlatDefaultV4(t);
  },
);
