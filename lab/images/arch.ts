/**
 * The architectures the lab builds images for (Debian's names: amd64, arm64), and web-arm's
 * as the config names it (`lab.arch`: x86_64, aarch64). Every tier's node image and the qemu
 * tier's guest image are built for one of them. Pure.
 */
import { ConfigError } from '../errors.ts';
import type { LabConfig } from '../topology/config.ts';

/** Debian's names for the architectures the lab builds for (QEMU says x86_64 and aarch64). */
export type ImageArch = 'amd64' | 'arm64';

export const IMAGE_ARCHES: readonly ImageArch[] = ['amd64', 'arm64'];

const DEBIAN_ARCH: Partial<Record<string, ImageArch>> = { x86_64: 'amd64', aarch64: 'arm64' };

/**
 * web-arm's Debian architecture (`lab.arch`). It need not be this machine's: images are built
 * for it (under qemu-user when foreign). Only an architecture without a recipe is refused.
 */
export function webArmImageArch(config: LabConfig): ImageArch {
  const arch = DEBIAN_ARCH[config.lab.arch];
  if (!arch || !IMAGE_ARCHES.includes(arch)) {
    const known = Object.keys(DEBIAN_ARCH).filter((a) => IMAGE_ARCHES.includes(DEBIAN_ARCH[a]!));
    throw new ConfigError(
      'lab.arch',
      config.lab.arch,
      `has no guest recipe: web-arm's guest image and its node image are built for ${known.join(' and ')} only`,
      `use ${known.map((a) => `--arch ${a}`).join(' or ')}`,
    );
  }
  return arch;
}
