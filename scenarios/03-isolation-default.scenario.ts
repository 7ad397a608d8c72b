// collabora and rustdesk-server do not opt in: they stay on the IPv4-only default network,
// keep working from the internet, and were not restarted by the apply.
import { scenario } from '../lab/scenario/define.ts';
import { checkIsolationDefault } from './lib/checks.ts';

scenario('isolation-default', async (t) => {
  await checkIsolationDefault(t);
});
