/**
 * How an image build runs the commands that execute the image's own binaries (mmdebstrap, the
 * chroot commands): as they are for this machine's architecture; for another one in a user
 * namespace with a private binfmt_misc registration of qemu-user-static (lab/images/foreign.ts).
 * One path for both: the node image and the guest image wrap their argv the same way.
 */
import { existsSync, readFileSync } from 'node:fs';
import { HostError } from '../errors.ts';
import { ensureHostPackages, type HostRequirements } from '../host/packages.ts';
import type { Progress } from '../progress.ts';
import { binfmtConfPath, foreignArchArgv, hostArch, isForeign, parseBinfmtRegistration } from './foreign.ts';
import type { ImageArch as GuestArch } from './arch.ts';

/** Building for a foreign architecture: its interpreter for the private binfmt_misc, and mmdebstrap's check. */
export const FOREIGN_BUILD_REQUIREMENTS: Record<GuestArch, HostRequirements> = {
  amd64: [
    { path: ['/usr/bin/qemu-x86_64-static'], pkg: 'qemu-user-static' },
    { path: ['/usr/bin/arch-test'], pkg: 'arch-test' },
  ],
  arm64: [
    { path: ['/usr/bin/qemu-aarch64-static'], pkg: 'qemu-user-static' },
    { path: ['/usr/bin/arch-test'], pkg: 'arch-test' },
  ],
};

/** This machine's Debian architecture: the node image of the containers on it is built for it. */
export function machineArch(nodeArch: string = process.arch): GuestArch {
  const arch = hostArch(nodeArch);
  if (!arch) throw new HostError(`this machine's architecture (${nodeArch}) has no node image recipe: the lab runs on amd64 and arm64 machines`);
  return arch;
}

export function buildRequirements(arch: GuestArch, host: GuestArch | undefined = hostArch()): HostRequirements {
  return isForeign(arch, host) ? FOREIGN_BUILD_REQUIREMENTS[arch] : [];
}

export interface BuildCommands {
  arch: GuestArch;
  foreign: boolean;
  /** The argv that runs `argv` so that binaries of `arch` execute. */
  wrap: (argv: string[]) => string[];
  /** How, for progress: "native" or which interpreter and where it is registered. */
  how: string;
}

/** The wrapper for a build of `arch` here (for a foreign one: after its host packages are there). */
export async function buildCommandsFor(arch: GuestArch, progress: Progress): Promise<BuildCommands> {
  if (!isForeign(arch)) return { arch, foreign: false, wrap: (argv) => argv, how: 'native' };
  await ensureHostPackages(progress, FOREIGN_BUILD_REQUIREMENTS[arch]);
  const conf = binfmtConfPath(arch);
  if (!existsSync(conf)) throw new HostError(`${conf} is missing: qemu-user-static provides it (apt-get install qemu-user-static)`);
  const registration = parseBinfmtRegistration(readFileSync(conf, 'utf8'), conf);
  return {
    arch,
    foreign: true,
    wrap: (argv) => foreignArchArgv(registration, argv),
    how: `under ${registration.interpreter} (qemu-user), registered in a private user namespace's binfmt_misc`,
  };
}

/**
 * The phase an mmdebstrap output line announces ("I: installing remaining packages inside the
 * chroot..." → "installing remaining packages inside the chroot"), or undefined.
 */
export function mmdebstrapPhase(line: string): string | undefined {
  const m = /^I: (.+?)\s*(?:\.\.\.|…)$/.exec(line.trim());
  return m?.[1];
}

/** How often a long mmdebstrap phase says it is still running (it prints nothing between phases). */
export const MMDEBSTRAP_HEARTBEAT_MS = 60_000;

/**
 * Runs `fn` with an onLine handler that notes mmdebstrap's phases with the time since the start,
 * and, while a phase lasts (installing the packages under qemu-user takes ~10 min and prints
 * nothing: mmdebstrap's progress bar is for terminals only), notes every minute that it still runs.
 */
export async function withMmdebstrapProgress<T>(progress: Progress, fn: (onLine: (line: string) => void) => Promise<T>): Promise<T> {
  const started = performance.now();
  const at = () => `mmdebstrap at ${Math.round((performance.now() - started) / 1000)} s`;
  let phase = 'starting';
  const heartbeat = setInterval(() => progress.note(`${at()}: still ${phase}`), MMDEBSTRAP_HEARTBEAT_MS);
  heartbeat.unref();
  try {
    return await fn((line) => {
      const next = mmdebstrapPhase(line);
      if (!next) return;
      phase = next;
      heartbeat.refresh();
      progress.note(`${at()}: ${next}`);
    });
  } finally {
    clearInterval(heartbeat);
  }
}
