/** The tier conformance story on the netns tier (conformance.ts). Needs root. */
import { conformanceSuite } from './conformance.ts';

conformanceSuite({ tier: 'netns', guest: 'debian' });
