// v6egress pre-created wrongly (IPv4 only): `exists || create` accepts it silently, the lab
// reports DRIFT, and the strict ensure option refuses it (or recreates it when nothing is attached).
import { scenario } from '../lab/scenario/define.ts';
import { storyDrift } from './lib/faults.ts';

scenario('drift', async (t) => {
  await storyDrift(t);
});
