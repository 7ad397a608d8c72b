/**
 * `pnpm lab`'s entry point: checks the Node first (nodeCheck.mjs, plain JavaScript, so an old
 * Node gets the fix instead of ERR_UNKNOWN_FILE_EXTENSION), turns on Node's compile cache
 * (compileCache.mjs), then runs the CLI (main.ts).
 */
import './nodeCheck.mjs';
import './compileCache.mjs';

await import('./main.ts');
