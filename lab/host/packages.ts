/**
 * Host packages the netns tier needs. `lab up` installs the missing ones through apt when
 * run as root, and says what it installs.
 */
import { existsSync } from 'node:fs';
import { HostError } from '../errors.ts';
import { run } from '../exec.ts';
import type { Progress } from '../progress.ts';

/** A file that proves the package is there → the Debian package that provides it. */
export const HOST_REQUIREMENTS: ReadonlyArray<{ path: string[]; pkg: string }> = [
  { path: ['/usr/bin/ip', '/usr/sbin/ip', '/bin/ip', '/sbin/ip'], pkg: 'iproute2' },
  { path: ['/usr/bin/nsenter'], pkg: 'util-linux' },
  { path: ['/usr/bin/podman'], pkg: 'podman' },
  { path: ['/usr/lib/podman/netavark', '/usr/libexec/podman/netavark'], pkg: 'netavark' },
  { path: ['/usr/lib/podman/aardvark-dns', '/usr/libexec/podman/aardvark-dns'], pkg: 'aardvark-dns' },
  { path: ['/usr/bin/conmon', '/usr/libexec/podman/conmon'], pkg: 'conmon' },
  { path: ['/usr/sbin/runc', '/usr/bin/runc'], pkg: 'runc' },
  { path: ['/usr/sbin/nft'], pkg: 'nftables' },
  { path: ['/usr/sbin/iptables'], pkg: 'iptables' },
  { path: ['/usr/sbin/sysctl', '/sbin/sysctl'], pkg: 'procps' },
  { path: ['/usr/bin/mmdebstrap'], pkg: 'mmdebstrap' },
  { path: ['/usr/share/keyrings/debian-archive-keyring.gpg'], pkg: 'debian-archive-keyring' },
  { path: ['/usr/bin/tcpdump', '/usr/sbin/tcpdump'], pkg: 'tcpdump' },
  // rdisc6: ra-control's SLAAC host (a namespace of the lab's) solicits router advertisements.
  { path: ['/usr/bin/rdisc6'], pkg: 'ndisc6' },
  // Draws the topology in the HTML report (lab test, lab report --html).
  { path: ['/usr/bin/dot'], pkg: 'graphviz' },
];

export type HostRequirements = ReadonlyArray<{ path: string[]; pkg: string }>;

export function missingPackages(exists: (p: string) => boolean = existsSync, requirements: HostRequirements = HOST_REQUIREMENTS): string[] {
  return requirements.filter((r) => !r.path.some(exists)).map((r) => r.pkg);
}

export function assertRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new HostError('The netns tier creates namespaces, links and firewall rules: run it as root (e.g. `sudo pnpm lab up`).');
  }
}

export async function ensureHostPackages(progress: Progress, requirements: HostRequirements = HOST_REQUIREMENTS): Promise<string[]> {
  const missing = missingPackages(existsSync, requirements);
  if (missing.length === 0) return [];
  if (process.env.V6LAB_NO_APT === '1') {
    throw new HostError(`Missing host packages: ${missing.join(', ')}. Fix: apt-get install ${missing.join(' ')} (V6LAB_NO_APT=1 forbids installing them).`);
  }
  await progress.step(`install host packages: ${missing.join(', ')}`, async () => {
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    await run(['apt-get', 'update'], { timeoutMs: 10 * 60_000, env });
    await run(['apt-get', 'install', '-y', '--no-install-recommends', ...missing], { timeoutMs: 20 * 60_000, env });
  });
  const still = missingPackages(existsSync, requirements);
  if (still.length) throw new HostError(`Host packages still missing after apt-get install: ${still.join(', ')}`);
  return missing;
}
