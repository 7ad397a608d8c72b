/**
 * Node's compile cache for the lab's CLI (`node:module` enableCompileCache): Node strips the
 * types of every .ts file the CLI imports and compiles it again at each start, ~0.5 s of the
 * ~1 s a `pnpm lab status` took here; with the cache a start takes ~0.4 s. The cache is keyed by
 * each file's content and Node's version (an edited file is compiled again) and lives beside
 * the lab's image cache: `$V6LAB_CACHE_DIR` or `~/.cache/v6lab`, in `node-compile/`. Node's own
 * NODE_COMPILE_CACHE / NODE_DISABLE_COMPILE_CACHE still decide when set. Plain JavaScript,
 * imported before the .ts modules are loaded (a static import of them would be compiled first).
 */
import * as nodeModule from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

if (typeof nodeModule.enableCompileCache === 'function' && !process.env.NODE_COMPILE_CACHE) {
  const base = process.env.V6LAB_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'v6lab');
  nodeModule.enableCompileCache(join(base, 'node-compile'));
}
