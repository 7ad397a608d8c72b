import { describe, expect, it, vi } from 'vitest';
import { ConfigError, HostError } from '../../lab/errors.ts';
import { buildRequirements, machineArch, MMDEBSTRAP_HEARTBEAT_MS, mmdebstrapPhase, withMmdebstrapProgress } from '../../lab/images/buildArch.ts';
import type { Progress } from '../../lab/progress.ts';
import { guestArchOf } from '../../lab/tiers/qemu/guestPower.ts';
import { binfmtConfPath, foreignArchArgv, hostArch, isForeign, parseBinfmtRegistration, QEMU_ARCH } from '../../lab/images/foreign.ts';
import { qemuHostRequirements } from '../../lab/tiers/qemu/image.ts';
import { preloadImportArgv } from '../../lab/tiers/qemu/preload.ts';
import { defaultConfig, type LabConfig } from '../../lab/topology/config.ts';
import { thrown } from './helpers/golden.ts';

/** /usr/lib/binfmt.d/qemu-aarch64.conf from bookworm's qemu-user-static. */
const DEBIAN_AARCH64 =
  ':qemu-aarch64:M::\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/usr/libexec/qemu-binfmt/aarch64-binfmt-P:OPF\n';

describe('foreign-architecture builds', () => {
  it('names the architectures as Debian and QEMU do, and knows which are foreign here', () => {
    expect(QEMU_ARCH).toEqual({ amd64: 'x86_64', arm64: 'aarch64' });
    expect(hostArch('x64')).toBe('amd64');
    expect(hostArch('arm64')).toBe('arm64');
    expect(hostArch('riscv64')).toBeUndefined();
    expect(isForeign('arm64', 'amd64')).toBe(true);
    expect(isForeign('amd64', 'amd64')).toBe(false);
    expect(binfmtConfPath('arm64')).toBe('/usr/lib/binfmt.d/qemu-aarch64.conf');
  });

  it("reads qemu-user-static's registration, which must open the interpreter at registration (F)", () => {
    const registration = parseBinfmtRegistration(`# comment\n\n${DEBIAN_AARCH64}`);
    expect(registration).toEqual({
      name: 'qemu-aarch64',
      interpreter: '/usr/libexec/qemu-binfmt/aarch64-binfmt-P',
      flags: 'OPF',
      line: DEBIAN_AARCH64.trim(),
    });
    expect(thrown(() => parseBinfmtRegistration(DEBIAN_AARCH64.replace(':OPF', ':OP'), 'x.conf'))).toBeInstanceOf(HostError);
    expect(() => parseBinfmtRegistration(DEBIAN_AARCH64.replace(':OPF', ':OP'), 'x.conf')).toThrow(/x\.conf: the registration lacks the F flag/);
    expect(() => parseBinfmtRegistration('', 'x.conf')).toThrow(/x\.conf holds no binfmt_misc registration/);
    expect(() => parseBinfmtRegistration(':qemu-aarch64:M::magic:/usr/bin/x:F')).toThrow(/not a binfmt_misc registration/);
    expect(() => parseBinfmtRegistration(':a b:M::m::/x:F')).toThrow(/not a binfmt_misc registration/);
  });

  it('wraps a command: new user, mount and pid namespaces, identity maps, a private binfmt_misc', () => {
    const registration = parseBinfmtRegistration(DEBIAN_AARCH64);
    const argv = foreignArchArgv(registration, ['mmdebstrap', '--mode=root', 'trixie', '/out']);
    expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
    const [outer, , line, stage1, stage2, ...command] = argv.slice(2);
    expect(line).toBe(registration.line);
    expect(command).toEqual(['mmdebstrap', '--mode=root', 'trixie', '/out']);
    expect(outer).toContain('unshare --user --mount --propagation private --pid --fork --mount-proc -- sh -c "$stage1"');
    expect(outer).toContain('echo "0 0 65536" > "/proc/$child/uid_map"');
    expect(outer).toContain('echo "0 0 65536" > "/proc/$child/gid_map"');
    expect(outer).toContain('trap stop TERM INT HUP');
    // Stage 1 waits for the maps, then execs stage 2, which mounts the private binfmt_misc first.
    expect(stage1).toMatch(/until grep -q \. \/proc\/self\/uid_map;.*exec sh -c "\$stage2"/);
    expect(stage2).toMatch(/^set -e; mount -t binfmt_misc v6lab-binfmt \/proc\/sys\/fs\/binfmt_misc; .*> \/proc\/sys\/fs\/binfmt_misc\/register; shift; exec "\$@"$/);
    // The machine's own binfmt_misc is never written to: only the one mounted inside.
    expect(argv.join('\n').match(/binfmt_misc\/register/g)).toHaveLength(1);
  });

  it('needs qemu-user-static and arch-test only to build a foreign guest', () => {
    const pkgs = (arch: 'amd64' | 'arm64') => qemuHostRequirements(arch, 'amd64').map((r) => r.pkg);
    expect(pkgs('arm64')).toEqual(expect.arrayContaining(['qemu-system-arm', 'qemu-user-static', 'arch-test', 'mmdebstrap', 'qemu-utils']));
    expect(pkgs('arm64')).not.toContain('qemu-system-x86');
    expect(pkgs('amd64')).toContain('qemu-system-x86');
    expect(pkgs('amd64')).not.toContain('qemu-user-static');
    expect(pkgs('amd64')).not.toContain('qemu-system-arm');
    expect(qemuHostRequirements('arm64', 'amd64').find((r) => r.pkg === 'qemu-user-static')?.path).toEqual(['/usr/bin/qemu-aarch64-static']);
  });
});

describe('a guest of another architecture and its node image', () => {
  const withArch = (arch: string): LabConfig => {
    const config = defaultConfig();
    config.lab.tier = 'qemu';
    // Past the schema on purpose: guestArchOf must refuse an arch without a recipe by itself.
    config.lab.arch = arch as LabConfig['lab']['arch'];
    return config;
  };

  it('allows either guest on any machine: the guest and its node image are built for the guest', () => {
    expect(guestArchOf(withArch('x86_64'))).toBe('amd64');
    expect(guestArchOf(withArch('aarch64'))).toBe('arm64');
  });

  it('refuses an architecture without a guest recipe with a ConfigError naming lab.arch and the fix', () => {
    const error = thrown(() => guestArchOf(withArch('riscv64')));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('lab.arch');
    expect((error as ConfigError).message).toMatch(/has no guest recipe/);
    expect((error as ConfigError).fix).toBe('use --arch x86_64 or --arch aarch64');
  });

  it("names this machine's architecture for its containers' node image, or says there is no recipe", () => {
    expect(machineArch('x64')).toBe('amd64');
    expect(machineArch('arm64')).toBe('arm64');
    expect(() => machineArch('riscv64')).toThrow(HostError);
  });

  it('needs qemu-user-static and arch-test for a foreign build of any image, nothing for a native one', () => {
    expect(buildRequirements('arm64', 'amd64').map((r) => r.pkg)).toEqual(['qemu-user-static', 'arch-test']);
    expect(buildRequirements('amd64', 'arm64').map((r) => r.path[0])).toEqual(['/usr/bin/qemu-x86_64-static', '/usr/bin/arch-test']);
    expect(buildRequirements('amd64', 'amd64')).toEqual([]);
    expect(buildRequirements('arm64', 'arm64')).toEqual([]);
  });

  it("records the guest's architecture when preloading the node image into its podman storage", () => {
    const argv = preloadImportArgv('/r/var/lib/containers/storage', '/tmp/run', '/c/v6lab-node-arm64-abc.tar', 'localhost/v6lab-node:abc', 'arm64');
    const at = argv.indexOf('import');
    expect(argv.slice(at, at + 5)).toEqual(['import', '--os', 'linux', '--arch', 'arm64']);
    expect(argv.slice(-2)).toEqual(['/c/v6lab-node-arm64-abc.tar', 'localhost/v6lab-node:abc']);
    expect(argv).toContain('/r/var/lib/containers/storage');
  });

  it("reads mmdebstrap's phases from its output for progress", () => {
    expect(mmdebstrapPhase('I: installing remaining packages inside the chroot...')).toBe('installing remaining packages inside the chroot');
    expect(mmdebstrapPhase('I: creating tarball...')).toBe('creating tarball');
    expect(mmdebstrapPhase('I: success in 701.2 seconds')).toBeUndefined();
    expect(mmdebstrapPhase('W: something')).toBeUndefined();
    expect(mmdebstrapPhase('Setting up curl (7.88.1-10) ...')).toBeUndefined();
  });

  it('notes each phase, and every minute that a long phase still runs, until the build ends', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    try {
      const notes: string[] = [];
      const progress: Progress = { step: (_t, fn) => fn(), note: (m) => notes.push(m) };
      let finish = () => undefined as void;
      const done = withMmdebstrapProgress(progress, (onLine) => {
        onLine('I: installing essential packages...');
        vi.advanceTimersByTime(30_000);
        onLine('I: installing remaining packages inside the chroot...');
        vi.advanceTimersByTime(2 * MMDEBSTRAP_HEARTBEAT_MS + 1_000);
        return new Promise<string>((resolve) => {
          finish = () => resolve('built');
        });
      });
      finish();
      expect(await done).toBe('built');
      vi.advanceTimersByTime(5 * MMDEBSTRAP_HEARTBEAT_MS);
      expect(notes).toEqual([
        'mmdebstrap at 0 s: installing essential packages',
        'mmdebstrap at 30 s: installing remaining packages inside the chroot',
        'mmdebstrap at 90 s: still installing remaining packages inside the chroot',
        'mmdebstrap at 150 s: still installing remaining packages inside the chroot',
      ]);
    } finally {
      vi.useRealTimers();
    }
  });
});
