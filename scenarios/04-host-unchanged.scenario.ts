// web-arm's own IPv6 identity survives the change: the uplink's address and routes and the
// accept_ra setting are as before; only IPv6 forwarding was switched on, as intended.
import { scenario } from '../lab/scenario/define.ts';
import { checkHostUnchanged } from './lib/checks.ts';

scenario('host-unchanged', async (t) => {
  await checkHostUnchanged(t, ['after-apply', 'after-first-container']);
});
