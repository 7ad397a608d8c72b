/**
 * The recipe of the lab's one node image (router, internet hosts, probes and stand-ins all
 * run it), per architecture: the router and internet containers on this machine run it built
 * for this machine, web-arm's podman (a QEMU guest maybe of another architecture) built for
 * web-arm's. Pure: the cache key is a hash of everything that goes into the image, the
 * architecture included, so each architecture has its own tarball and tag.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ImageArch } from './arch.ts';

export const RESPONDER_PATH = fileURLToPath(new URL('./node/v6lab-responder', import.meta.url));

/** Debian's name of the architecture an image is built for. */
export type { ImageArch };

export interface ImageRecipe {
  name: string;
  arch: ImageArch;
  suite: string;
  mirror: string;
  packages: string[];
  excludes: string[];
  /** Files copied into the image: [source on this machine, target directory in the image]. */
  files: Array<[string, string]>;
  /** Shell commands run on the finished rootfs ("$1" is its path), in order. */
  customize: string[];
}

export function nodeImageRecipe(suite: string, mirror: string, arch: ImageArch): ImageRecipe {
  return {
    name: 'v6lab-node',
    arch,
    suite,
    mirror,
    packages: [
      'iproute2', 'iputils-ping', 'curl', 'netcat-openbsd', 'socat', 'python3', 'dnsmasq-base',
      'tcpdump', 'nftables', 'procps', 'ca-certificates', 'dnsutils', 'radvd',
      // The router's NAT64 and DNS64 on the IPv6-only variant (topology.ipv4=false).
      'tayga', 'unbound',
    ],
    excludes: ['/usr/share/man/*', '/usr/share/doc/*', '/usr/share/locale/*', '/usr/share/info/*'],
    files: [[RESPONDER_PATH, '/usr/local/bin']],
    customize: [
      // ping without its file capability: podman 5 grants containers no NET_RAW, and exec of a
      // binary whose file capabilities cannot be granted fails ("Operation not permitted").
      // Without it ping uses an ICMP datagram socket (podman sets ping_group_range=0 0).
      'cp "$1/usr/bin/ping" "$1/usr/bin/ping.nocap" && mv "$1/usr/bin/ping.nocap" "$1/usr/bin/ping" && chmod 0755 "$1/usr/bin/ping"',
    ],
  };
}

/** A short, stable hash of the recipe and of the content of every file it copies in. */
export function recipeHash(recipe: ImageRecipe, readFile: (path: string) => Buffer = readFileSync): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ ...recipe, files: recipe.files.map(([, target]) => target) }));
  for (const [source] of recipe.files) hash.update(readFile(source));
  return hash.digest('hex').slice(0, 12);
}

export function imageTag(recipe: ImageRecipe, hash: string): string {
  return `localhost/${recipe.name}:${hash}`;
}

/** The tag `lab up` gives the node image for this suite, mirror and architecture (known before it is built). */
export function nodeImageTag(suite: string, mirror: string, arch: ImageArch): string {
  const recipe = nodeImageRecipe(suite, mirror, arch);
  return imageTag(recipe, recipeHash(recipe));
}

/** The mmdebstrap argv that builds the recipe into a rootfs tarball at output. */
export function mmdebstrapArgv(recipe: ImageRecipe, output: string): string[] {
  return [
    'mmdebstrap',
    '--variant=apt',
    '--mode=root',
    `--architectures=${recipe.arch}`,
    `--include=${recipe.packages.join(',')}`,
    ...recipe.excludes.map((e) => `--dpkgopt=path-exclude=${e}`),
    ...recipe.files.map(([source, target]) => `--customize-hook=copy-in ${source} ${target}`),
    ...recipe.customize.map((command) => `--customize-hook=${command}`),
    recipe.suite,
    output,
    recipe.mirror,
  ];
}
