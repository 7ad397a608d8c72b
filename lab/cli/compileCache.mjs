/**
 * Node's compile cache for the lab's CLI (`node:module` enableCompileCache): Node strips the
 * types of every .ts file the CLI imports and compiles it again at each start, ~0.5 s of the
 * ~1 s a `pnpm lab status` took here; with the cache a start takes ~0.4 s. The cache is keyed by
 * each file's content and Node's version (an edited file is compiled again) and lives in the
 * lab's cache directory (lab/images/cacheBase.ts), in `node-compile/`. Node's own
 * NODE_COMPILE_CACHE / NODE_DISABLE_COMPILE_CACHE still decide when set. Plain JavaScript,
 * imported before the .ts modules are loaded (a static import of them would be compiled first);
 * cacheBase.ts, which imports nothing of the lab, is the one module loaded without the cache.
 */
import * as nodeModule from 'node:module';
import { join } from 'node:path';

if (typeof nodeModule.enableCompileCache === 'function' && !process.env.NODE_COMPILE_CACHE) {
  const { cacheBase } = await import('../images/cacheBase.ts');
  nodeModule.enableCompileCache(join(cacheBase(), 'node-compile'));
}
