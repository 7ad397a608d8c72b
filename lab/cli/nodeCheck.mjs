/**
 * The first thing `pnpm lab`, `pnpm test` and `pnpm bench` run: stops at once, with the fix,
 * when the Node running them is older than v6lab needs (>= 22.22: .ts run directly, vitest 5,
 * testcontainers 12). Plain JavaScript on purpose: an old Node cannot load the .ts files and
 * would die with ERR_UNKNOWN_FILE_EXTENSION instead. Effects: reads process.versions, and on a
 * too-old Node writes to stderr and exits 2.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const NEED = [22, 22];
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);

if (major < NEED[0] || (major === NEED[0] && minor < NEED[1])) {
  const bundled = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));
  const supported = process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64');
  const [why, fix] = existsSync(bundled)
    ? ['node_modules/.bin/node (Node 24) is there, but this command did not run on it', 'run it through pnpm (pnpm lab …, pnpm test), which puts node_modules/.bin first on PATH']
    : supported
      ? [`Node 24 comes with the dependencies (the npm registry's node-linux-${process.arch} package), and they are not installed`, 'sh setup.sh   (installs pnpm 12 and the dependencies, Node 24 among them; pnpm lab and pnpm test then run on it)']
      : [`the npm registry has no Node package for ${process.platform}-${process.arch}`, 'install Node >= 22.22 for this machine and put it first on PATH'];
  process.stderr.write(`\nv6lab: E_HOST: v6lab needs Node >= ${NEED.join('.')}; this is Node ${process.versions.node} (${process.execPath}): ${why}.\nFix: ${fix}\n`);
  process.exit(2);
}
