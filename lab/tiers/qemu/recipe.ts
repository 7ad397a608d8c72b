/**
 * The recipe of the qemu tier's web-arm guest image (Debian trixie, real systemd). Pure: the
 * recipe is data, the files baked into the guest are rendered here, and the cache key is a
 * hash of all of it, so a changed recipe builds a new image and a warm one builds nothing.
 */
import { shellQuote } from '../../shell.ts';
import { createHash } from 'node:crypto';
import type { LabConfig } from '../../topology/config.ts';
import { IMAGE_ARCHES, type ImageArch } from '../../images/arch.ts';

/** Bump when the way an image is built changes without the recipe data changing. */
export const GUEST_BUILD_VERSION = 2;

/** Debian's names for the guest architectures (QEMU says x86_64 and aarch64): those the lab builds images for. */
export type GuestArch = ImageArch;

export const GUEST_ARCHES: readonly GuestArch[] = IMAGE_ARCHES;

/** web-arm's uplink as the guest configures it (systemd-networkd, static, no RA). */
export interface GuestNetwork {
  uplink: string;
  ipv6: { address: string; prefixLength: number; gateway: string };
  /** Absent on the IPv6-only variant (topology.ipv4=false). */
  ipv4?: { address: string; gateway: string };
}

export interface GuestFile {
  /** Absolute path inside the guest. */
  path: string;
  content: string;
  mode: number;
}

export interface GuestRecipe {
  name: string;
  arch: GuestArch;
  suite: string;
  mirror: string;
  variant: 'minbase' | 'apt';
  packages: string[];
  /** debconf answers (`owner question type value`), set before the packages are installed. */
  debconf: string[];
  /** dpkg path-exclude patterns (documentation, man pages, locales). */
  excludes: string[];
  hostname: string;
  files: GuestFile[];
  /** argv run inside the rootfs (chroot) after the files are written, in order. */
  chrootCommands: string[][];
  /** Size of the root filesystem (sparse; the qcow2 holds only what is used). */
  diskSizeMiB: number;
  /** Container images preloaded into the guest's podman storage (tags; each comes from a rootfs tarball). */
  containerImages: string[];
}

export interface GuestSpec {
  /** Tags of the container images to preload (the lab's node image). */
  containerImages?: string[];
  arch: GuestArch;
  suite: string;
  mirror: string;
  hostname: string;
  network: GuestNetwork;
}

/** What every guest has, whatever its architecture. */
const GUEST_SHARED_PACKAGES: readonly string[] = [
  'systemd', 'systemd-sysv', 'udev', 'qemu-guest-agent', 'iproute2', 'iputils-ping', 'podman',
  'netavark', 'aardvark-dns', 'nftables', 'iptables', 'curl', 'util-linux-extra', 'ca-certificates',
  // crun's systemd cgroup manager talks to systemd over D-Bus.
  'dbus',
  // sysctl (host-state snapshots); postfix, web-arm's MTA (the mail path).
  'procps', 'postfix',
  // The Docker family beside podman (production enables virtualisation.docker), and the NDP
  // proxy a routed Docker /80 needs on an on-link /64.
  'docker.io', 'docker-cli', 'ndppd',
  // 464xlat on a v6-only host (clatd drives tayga), systemd-nspawn containers (networkd is in systemd).
  'clatd', 'tayga', 'systemd-container',
];

/** The only per-architecture package: the cloud kernel (virtio drivers built in, no firmware). */
const GUEST_KERNEL_PACKAGE: Record<GuestArch, string> = {
  amd64: 'linux-image-cloud-amd64',
  arm64: 'linux-image-cloud-arm64',
};

export const GUEST_PACKAGES: Record<GuestArch, readonly string[]> = {
  amd64: [...GUEST_SHARED_PACKAGES, GUEST_KERNEL_PACKAGE.amd64],
  arm64: [...GUEST_SHARED_PACKAGES, GUEST_KERNEL_PACKAGE.arm64],
};

/**
 * Postfix asks how it is used when it is installed; answered here so its postinst writes a
 * main.cf without asking (mmdebstrap runs dpkg with DEBIAN_FRONTEND=noninteractive). The mail
 * name is the guest's, not the build machine's.
 */
export function guestDebconf(hostname: string): string[] {
  return [
    'postfix postfix/main_mailer_type select Internet Site',
    `postfix postfix/mailname string ${hostname}`,
  ];
}

/** The guest as web-arm: its hostname and uplink addressing from the lab config. */
export function guestSpecFromConfig(config: LabConfig, arch: GuestArch = 'amd64'): GuestSpec {
  const w = config.webArm;
  return {
    arch,
    suite: 'trixie',
    mirror: config.image.mirror,
    hostname: w.hostname,
    network: {
      uplink: w.uplink,
      ipv6: { ...w.ipv6 },
      ...(config.topology.ipv4 ? { ipv4: { ...w.ipv4 } } : {}),
    },
  };
}

/**
 * The systemd-networkd file for web-arm's uplink, like Hetzner's static setup: the GUA with
 * the default route via fe80::1 on-link, router advertisements ignored, IPv4 as a /32 with
 * an on-link gateway outside it.
 */
export function renderNetworkdUplink(net: GuestNetwork): string {
  return [
    '[Match]',
    `Name=${net.uplink}`,
    '',
    '[Network]',
    `Address=${net.ipv6.address}/${net.ipv6.prefixLength}`,
    ...(net.ipv4 ? [`Address=${net.ipv4.address}/32`] : []),
    'IPv6AcceptRA=no',
    'LinkLocalAddressing=ipv6',
    'DHCP=no',
    '',
    '[Route]',
    `Gateway=${net.ipv6.gateway}`,
    'GatewayOnLink=yes',
    '',
    ...(net.ipv4 ? ['[Route]', `Gateway=${net.ipv4.gateway}`, 'GatewayOnLink=yes', ''] : []),
  ].join('\n');
}

export function renderHosts(hostname: string): string {
  return ['127.0.0.1\tlocalhost', `127.0.1.1\t${hostname}`, '::1\tlocalhost ip6-localhost ip6-loopback', ''].join('\n');
}

/** The root filesystem is the whole virtio disk (no partition table), mounted read-write. */
export const GUEST_FSTAB = '/dev/vda\t/\text4\trw,errors=remount-ro\t0\t0\n';

/** The filesystem label of the root filesystem. */
export const GUEST_ROOT_LABEL = 'v6lab-root';

/** Units of the Debian guest masked at build time: see guestRecipe. */
export const GUEST_MASKED_UNITS = [
  'apt-daily.timer',
  'apt-daily-upgrade.timer',
  'dpkg-db-backup.timer',
  'fstrim.timer',
  'e2scrub_all.timer',
  'e2scrub_reap.service',
  'man-db.timer',
  'getty@tty1.service',
  'serial-getty@ttyS0.service',
  'serial-getty@ttyAMA0.service',
] as const;

export function guestRecipe(spec: GuestSpec): GuestRecipe {
  return {
    name: 'v6lab-web-arm',
    arch: spec.arch,
    suite: spec.suite,
    mirror: spec.mirror,
    variant: 'minbase',
    packages: [...GUEST_PACKAGES[spec.arch]],
    debconf: guestDebconf(spec.hostname),
    excludes: ['/usr/share/man/*', '/usr/share/doc/*', '/usr/share/locale/*', '/usr/share/info/*'],
    hostname: spec.hostname,
    files: [
      { path: '/etc/hostname', content: `${spec.hostname}\n`, mode: 0o644 },
      { path: '/etc/hosts', content: renderHosts(spec.hostname), mode: 0o644 },
      { path: '/etc/fstab', content: GUEST_FSTAB, mode: 0o644 },
      { path: `/etc/systemd/network/10-${spec.network.uplink}.network`, content: renderNetworkdUplink(spec.network), mode: 0o644 },
    ],
    chrootCommands: [
      ['systemctl', 'enable', 'systemd-networkd.service'],
      // Root cannot log in (locked password; the guest is driven through its agent only).
      ['sh', '-c', "sed -i -E 's/^root:[^:]*:/root:!*:/' /etc/shadow && grep -q '^root:!' /etc/shadow"],
      // The agent is started by a udev rule in trixie; enabling makes it explicit anyway.
      ['sh', '-c', 'systemctl enable qemu-guest-agent.service || systemctl add-wants multi-user.target qemu-guest-agent.service'],
      // Postfix's postinst took the build machine's hostname for myhostname.
      ['postconf', '-e', `myhostname=${spec.hostname}`],
      // Debian enables clatd.service on install; production runs no CLAT unless a design says so
      // (on an IPv6-only guest it would start one for every design).
      ['systemctl', 'disable', 'clatd.service'],
      // tayga's own service starts a NAT64 (tun nat64, 64:ff9b::/96) on install: production runs
      // none; clatd starts its own tayga when a design asks for a CLAT.
      ['sh', '-c', 'systemctl disable tayga.service || update-rc.d tayga disable'],
      // ndppd's own service is enabled on install too: production runs no NDP proxy unless a design
      // says so (services.ndppd), and docker-routed-ndp writes its own ndppd.service when it does.
      // Measured: it started under every design, ~10 s of each boot.
      ['sh', '-c', 'systemctl disable ndppd.service || update-rc.d ndppd disable'],
      // Debian's housekeeping timers (apt's downloads and upgrades, dpkg's backup, fstrim,
      // e2scrub, man-db) and the login prompts (root is locked; the guest is driven through its
      // agent): nothing web-arm runs in production (NixOS), work a boot and the scenarios need not do.
      ['systemctl', 'mask', ...GUEST_MASKED_UNITS],
    ],
    diskSizeMiB: 4096,
    containerImages: [...(spec.containerImages ?? [])],
  };
}

/** A short, stable hash of everything that goes into the image. */
export function guestRecipeHash(recipe: GuestRecipe): string {
  return createHash('sha256').update(JSON.stringify({ version: GUEST_BUILD_VERSION, recipe })).digest('hex').slice(0, 12);
}


/**
 * The mmdebstrap argv that builds the recipe's rootfs into the directory `output`. The debconf
 * answers go in after the essential packages (debconf is among them) and before the rest.
 */
export function guestMmdebstrapArgv(recipe: GuestRecipe, output: string): string[] {
  const debconfHook = recipe.debconf.length
    ? [`--essential-hook=printf '%s\\n' ${recipe.debconf.map(shellQuote).join(' ')} | chroot "$1" debconf-set-selections`]
    : [];
  return [
    'mmdebstrap',
    `--variant=${recipe.variant}`,
    '--mode=root',
    `--architectures=${recipe.arch}`,
    `--include=${recipe.packages.join(',')}`,
    ...debconfHook,
    ...recipe.excludes.map((e) => `--dpkgopt=path-exclude=${e}`),
    recipe.suite,
    output,
    recipe.mirror,
  ];
}

/** mkfs.ext4 populating the filesystem image from the rootfs directory (no mount needed). */
export function mkfsArgv(rootfs: string, rawImage: string, sizeMiB: number): string[] {
  return [
    'mkfs.ext4', '-q', '-F',
    '-L', GUEST_ROOT_LABEL,
    '-E', 'lazy_itable_init=0,lazy_journal_init=0',
    '-d', rootfs,
    rawImage, `${sizeMiB}M`,
  ];
}

/** The newest kernel and its initrd among the file names of the rootfs's /boot. */
export function pickKernel(bootEntries: readonly string[]): { version: string; kernel: string; initrd: string } | undefined {
  const versions = bootEntries
    .map((e) => /^vmlinuz-(.+)$/.exec(e)?.[1])
    .filter((v): v is string => v !== undefined && bootEntries.includes(`initrd.img-${v}`))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const version = versions.at(-1);
  return version ? { version, kernel: `vmlinuz-${version}`, initrd: `initrd.img-${version}` } : undefined;
}
