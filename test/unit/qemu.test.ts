import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GuestAgent } from '../../lab/tiers/qemu/agent.ts';
import {
  AgentDecoder,
  decodeExecStatus,
  describeAgentError,
  encodeCommand,
  encodeSync,
  guestExecArgs,
  isSyncReply,
  parseExecPid,
  SYNC_BYTE,
} from '../../lab/tiers/qemu/agentProtocol.ts';
import {
  accelWithoutProbe,
  AGENT_PORT_NAME,
  guestKernelAppend,
  kvmProbeWorked,
  qemuAarch64Argv,
  qemuArgv,
  qemuX86Argv,
  type QemuVmSpec,
} from '../../lab/tiers/qemu/argv.ts';
import {
  GUEST_PACKAGES,
  guestMmdebstrapArgv,
  guestRecipe,
  guestRecipeHash,
  guestSpecFromConfig,
  mkfsArgv,
  pickKernel,
  renderNetworkdUplink,
} from '../../lab/tiers/qemu/recipe.ts';
import { vmNames } from '../../lab/tiers/qemu/vm.ts';
import { defaultConfig } from '../../lab/topology/config.ts';
import { expectGolden } from './helpers/golden.ts';

const spec = guestSpecFromConfig(defaultConfig());

describe('guest recipe', () => {
  it('is web-arm on trixie with the packages the tier needs', () => {
    const recipe = guestRecipe(spec);
    expect(recipe.suite).toBe('trixie');
    expect(recipe.mirror).toBe('http://deb.debian.org/debian');
    expect(recipe.hostname).toBe('web-arm');
    for (const pkg of ['systemd', 'systemd-sysv', 'linux-image-cloud-amd64', 'qemu-guest-agent', 'podman', 'netavark', 'aardvark-dns', 'nftables', 'iptables', 'util-linux-extra']) {
      expect(recipe.packages).toContain(pkg);
    }
    const paths = recipe.files.map((f) => f.path);
    expect(paths).toEqual(['/etc/hostname', '/etc/hosts', '/etc/fstab', '/etc/systemd/network/10-enp1s0.network']);
    expect(recipe.chrootCommands).toContainEqual(['systemctl', 'enable', 'systemd-networkd.service']);
  });

  it('differs between amd64 and arm64 only in the kernel package; both have postfix', () => {
    const amd64 = guestRecipe(spec);
    const arm64 = guestRecipe(guestSpecFromConfig(defaultConfig(), 'arm64'));
    expect(amd64.arch).toBe('amd64');
    expect(arm64.arch).toBe('arm64');
    expect(arm64.packages).toContain('linux-image-cloud-arm64');
    expect(arm64.packages).not.toContain('linux-image-cloud-amd64');
    const withoutKernel = (packages: readonly string[]) => packages.filter((p) => !p.startsWith('linux-image-'));
    expect(withoutKernel(GUEST_PACKAGES.arm64)).toEqual(withoutKernel(GUEST_PACKAGES.amd64));
    expect(GUEST_PACKAGES.amd64).toContain('postfix');
    expect(GUEST_PACKAGES.arm64).toContain('postfix');
    expect({ ...arm64, arch: 'amd64', packages: [] }).toEqual({ ...amd64, packages: [] });
    expect(guestRecipeHash(arm64)).not.toBe(guestRecipeHash(amd64));
  });

  it("answers postfix's questions with the guest's name, and names the guest in main.cf", () => {
    const recipe = guestRecipe(spec);
    expect(recipe.debconf).toEqual(['postfix postfix/main_mailer_type select Internet Site', 'postfix postfix/mailname string web-arm']);
    expect(recipe.chrootCommands).toContainEqual(['postconf', '-e', 'myhostname=web-arm']);
  });

  it('has a stable hash that changes with anything baked in', () => {
    const base = guestRecipeHash(guestRecipe(spec));
    expect(base).toMatch(/^[0-9a-f]{12}$/);
    expect(guestRecipeHash(guestRecipe(guestSpecFromConfig(defaultConfig())))).toBe(base);
    const otherAddress = defaultConfig();
    otherAddress.webArm.ipv6.address = '2a01:4f8:c012:43b::2';
    expect(guestRecipeHash(guestRecipe(guestSpecFromConfig(otherAddress)))).not.toBe(base);
    const otherMirror = defaultConfig();
    otherMirror.image.mirror = 'http://mirror.example/debian';
    expect(guestRecipeHash(guestRecipe(guestSpecFromConfig(otherMirror)))).not.toBe(base);
    const morePackages = guestRecipe(spec);
    morePackages.packages.push('postfix');
    expect(guestRecipeHash(morePackages)).not.toBe(base);
  });

  it('renders the mmdebstrap and mkfs command lines', () => {
    const recipe = guestRecipe(spec);
    const argv = guestMmdebstrapArgv(recipe, '/cache/x/rootfs');
    expect(argv.slice(0, 4)).toEqual(['mmdebstrap', '--variant=minbase', '--mode=root', '--architectures=amd64']);
    expect(argv.slice(-3)).toEqual(['trixie', '/cache/x/rootfs', 'http://deb.debian.org/debian']);
    expect(argv).toContain(`--include=${recipe.packages.join(',')}`);
    // debconf answers before the packages are installed, quoted for the hook's shell.
    expect(argv).toContain(
      `--essential-hook=printf '%s\\n' 'postfix postfix/main_mailer_type select Internet Site' 'postfix postfix/mailname string web-arm' | chroot "$1" debconf-set-selections`,
    );
    expect(guestMmdebstrapArgv(guestRecipe(guestSpecFromConfig(defaultConfig(), 'arm64')), '/r')[3]).toBe('--architectures=arm64');
    expect(guestMmdebstrapArgv({ ...recipe, debconf: ["a b string it's"] }, '/r')).toContain(
      `--essential-hook=printf '%s\\n' 'a b string it'\\''s' | chroot "$1" debconf-set-selections`,
    );
    expect(guestMmdebstrapArgv({ ...recipe, debconf: [] }, '/r').some((a) => a.startsWith('--essential-hook'))).toBe(false);
    expect(mkfsArgv('/r', '/r.ext4', 4096)).toEqual([
      'mkfs.ext4', '-q', '-F', '-L', 'v6lab-root', '-E', 'lazy_itable_init=0,lazy_journal_init=0', '-d', '/r', '/r.ext4', '4096M',
    ]);
  });

  it('picks the newest kernel that has an initrd', () => {
    expect(pickKernel(['config-6.12.9-cloud-amd64', 'vmlinuz-6.12.9-cloud-amd64', 'initrd.img-6.12.9-cloud-amd64'])).toEqual({
      version: '6.12.9-cloud-amd64',
      kernel: 'vmlinuz-6.12.9-cloud-amd64',
      initrd: 'initrd.img-6.12.9-cloud-amd64',
    });
    expect(pickKernel(['vmlinuz-6.12.9-cloud-amd64', 'initrd.img-6.12.9-cloud-amd64', 'vmlinuz-6.12.10-cloud-amd64', 'initrd.img-6.12.10-cloud-amd64'])?.version).toBe(
      '6.12.10-cloud-amd64',
    );
    expect(pickKernel(['vmlinuz-6.12.11-cloud-amd64', 'vmlinuz-6.12.9-cloud-amd64', 'initrd.img-6.12.9-cloud-amd64'])?.version).toBe('6.12.9-cloud-amd64');
    expect(pickKernel(['vmlinuz-6.12.9-cloud-amd64'])).toBeUndefined();
  });
});

describe('systemd-networkd uplink', () => {
  it('renders the static GUA, on-link gateways and no RA (golden)', () => {
    const text = renderNetworkdUplink(spec.network);
    expectGolden('qemu-enp1s0.network', text);
    expect(text).toContain('Address=2a01:4f8:c012:43b::1/64');
    expect(text).toContain('IPv6AcceptRA=no');
    expect(text).toContain('Gateway=fe80::1');
    expect(text).toContain('Address=203.0.113.10/32');
    expect(text).toContain('Gateway=172.31.1.1');
    expect(text.match(/GatewayOnLink=yes/g)).toHaveLength(2);
  });
});

describe('QEMU command line', () => {
  const vm: QemuVmSpec = {
    name: 'web-arm',
    processName: 'v6lab-main-web-arm',
    accel: 'tcg',
    memoryMiB: 1024,
    kernel: '/cache/qemu/h/vmlinuz',
    initrd: '/cache/qemu/h/initrd.img',
    append: guestKernelAppend('amd64'),
    disk: '/run/v6lab/main/qemu/web-arm/disk.qcow2',
    tap: 'web-arm',
    mac: '96:00:02:c0:12:43',
    agentSocket: '/run/v6lab/main/qemu/web-arm/qga.sock',
    qmpSocket: '/run/v6lab/main/qemu/web-arm/qmp.sock',
    consoleLog: '/run/v6lab/main/qemu/web-arm/console.log',
    pidFile: '/run/v6lab/main/qemu/web-arm/qemu.pid',
  };
  const armVm: QemuVmSpec = { ...vm, append: guestKernelAppend('arm64') };
  const after = (argv: string[], flag: string) => argv.filter((_, i) => argv[i - 1] === flag);

  it('renders an x86_64 TCG guest (golden)', () => {
    expectGolden('qemu-x86-tcg.argv', `${qemuX86Argv(vm).join('\n')}\n`);
  });

  it('is q35 with the TCG settings that keep the guest sane, 1 GiB, no default devices', () => {
    const argv = qemuX86Argv(vm);
    const after = (flag: string) => argv.filter((_, i) => argv[i - 1] === flag);
    expect(after('-M')).toEqual(['q35']);
    expect(after('-accel')).toEqual(['tcg,thread=single']);
    expect(after('-cpu')).toEqual(['max,-cx16']);
    expect(after('-m')).toEqual(['1024']);
    expect(argv).toContain('-nodefaults');
    expect(after('-name')).toEqual(['web-arm,process=v6lab-main-web-arm']);
  });

  it('has exactly one NIC: virtio on a root port at 0x2 (enp1s0), backed by the tap', () => {
    const argv = qemuX86Argv(vm);
    const netdevs = argv.filter((_, i) => argv[i - 1] === '-netdev' || argv[i - 1] === '-nic' || argv[i - 1] === '-net');
    expect(netdevs).toEqual(['tap,id=uplink,ifname=web-arm,script=no,downscript=no']);
    const devices = argv.filter((_, i) => argv[i - 1] === '-device');
    expect(devices).toContain('pcie-root-port,id=rp1,bus=pcie.0,addr=0x2,chassis=1');
    expect(devices).toContain('virtio-net-pci,netdev=uplink,mac=96:00:02:c0:12:43,bus=rp1');
    expect(devices.filter((d) => /net/.test(d))).toHaveLength(1);
  });

  it('puts the agent on a virtio-serial port named for its udev rule, and the console in a file', () => {
    const argv = qemuX86Argv(vm);
    expect(argv).toContain('socket,id=qga0,path=/run/v6lab/main/qemu/web-arm/qga.sock,server=on,wait=off');
    expect(argv).toContain(`virtserialport,bus=vser0.0,chardev=qga0,name=${AGENT_PORT_NAME}`);
    expect(argv).toContain('file:/run/v6lab/main/qemu/web-arm/console.log');
  });

  it('renders an aarch64 TCG guest (golden)', () => {
    expectGolden('qemu-aarch64-tcg.argv', `${qemuAarch64Argv(armVm).join('\n')}\n`);
  });

  it('is virt with multi-threaded TCG on two vCPUs, the fast pointer authentication, no default devices', () => {
    const argv = qemuAarch64Argv(armVm);
    expect(argv[0]).toBe('qemu-system-aarch64');
    expect(after(argv, '-M')).toEqual(['virt']);
    expect(after(argv, '-accel')).toEqual(['tcg,thread=multi']);
    expect(after(argv, '-cpu')).toEqual(['max,pauth-impdef=on']);
    expect(after(argv, '-smp')).toEqual(['2']);
    expect(after(argv, '-m')).toEqual(['1024']);
    expect(argv).toContain('-nodefaults');
    expect(after(argv, '-name')).toEqual(['web-arm,process=v6lab-main-web-arm']);
    expect(after(argv, '-kernel')).toEqual(['/cache/qemu/h/vmlinuz']);
    expect(after(argv, '-initrd')).toEqual(['/cache/qemu/h/initrd.img']);
  });

  it('boots aarch64 with its console on the PL011 (ttyAMA0), x86_64 on ttyS0', () => {
    expect(guestKernelAppend('arm64')).toBe('root=/dev/vda rw console=ttyAMA0 panic=-1 quiet systemd.show_status=error');
    expect(guestKernelAppend('amd64', ['x=1'])).toBe('root=/dev/vda rw console=ttyS0 panic=-1 quiet systemd.show_status=error x=1');
    expect(after(qemuAarch64Argv(armVm), '-append')).toEqual(['root=/dev/vda rw console=ttyAMA0 panic=-1 quiet systemd.show_status=error']);
  });


  it('gives aarch64 the same single NIC (enp1s0), disk, agent port, RNG, QMP and console file as x86_64', () => {
    const arm = qemuAarch64Argv(armVm);
    const x86 = qemuX86Argv(vm);
    const netdevs = arm.filter((_, i) => ['-netdev', '-nic', '-net'].includes(arm[i - 1] ?? ''));
    expect(netdevs).toEqual(['tap,id=uplink,ifname=web-arm,script=no,downscript=no']);
    const devices = after(arm, '-device');
    expect(devices).toContain('pcie-root-port,id=rp1,bus=pcie.0,addr=0x2,chassis=1');
    expect(devices).toContain('virtio-net-pci,netdev=uplink,mac=96:00:02:c0:12:43,bus=rp1,romfile=');
    expect(devices.filter((d) => /net/.test(d))).toHaveLength(1);
    expect(devices.filter((d) => !d.startsWith('virtio-net-pci'))).toEqual(after(x86, '-device').filter((d) => !d.startsWith('virtio-net-pci')));
    for (const flag of ['-drive', '-chardev', '-qmp', '-serial', '-pidfile']) expect(after(arm, flag)).toEqual(after(x86, flag));
    expect(devices).toContain(`virtserialport,bus=vser0.0,chardev=qga0,name=${AGENT_PORT_NAME}`);
  });

  it('picks the command line by the guest architecture', () => {
    expect(qemuArgv('arm64', armVm)).toEqual(qemuAarch64Argv(armVm));
    expect(qemuArgv('amd64', vm)).toEqual(qemuX86Argv(vm));
  });

  it('runs a foreign guest under TCG without a KVM probe, and probes only x86_64 on x86_64', () => {
    const foreign = accelWithoutProbe('arm64', 'amd64', undefined, true);
    expect(foreign?.accel).toBe('tcg');
    expect(foreign?.why).toMatch(/arm64 guest on an amd64 machine: always TCG .*no KVM probe/);
    expect(accelWithoutProbe('arm64', 'amd64', 'kvm', true)?.accel).toBe('tcg');
    expect(accelWithoutProbe('amd64', 'amd64', 'tcg', true)).toEqual({ accel: 'tcg', why: 'V6LAB_QEMU_ACCEL=tcg' });
    expect(accelWithoutProbe('amd64', 'amd64', undefined, false)).toEqual({ accel: 'tcg', why: 'no /dev/kvm' });
    expect(accelWithoutProbe('amd64', 'amd64', undefined, true)).toBeUndefined();
    expect(accelWithoutProbe('arm64', 'arm64', 'kvm', true)).toEqual({ accel: 'kvm', why: 'V6LAB_QEMU_ACCEL=kvm' });
    expect(accelWithoutProbe('arm64', 'arm64', undefined, true)?.accel).toBe('tcg');
  });

  it('uses the host CPU with KVM', () => {
    const argv = qemuX86Argv({ ...vm, accel: 'kvm' });
    expect(argv.join(' ')).toContain('-accel kvm -cpu host');
    expect(argv.join(' ')).not.toContain('tcg');
  });

  it('judges a KVM probe by the guest kernel it booted', () => {
    const panic = 'Linux version 6.12.9-cloud-amd64 …\nKernel panic - not syncing: VFS: Unable to mount root fs';
    expect(kvmProbeWorked(panic, true)).toBe(true);
    expect(kvmProbeWorked(panic, false)).toBe(false);
    expect(kvmProbeWorked('', true)).toBe(false);
  });

  it('names what a VM owns with the lab mark', () => {
    expect(vmNames('main')).toEqual({
      lab: 'main',
      name: 'web-arm',
      netns: 'v6lab-main-qemu-router',
      tap: 'web-arm',
      runDir: '/run/v6lab/main/qemu/web-arm',
      processMark: 'v6lab-main-web-arm',
      ownsNetns: true,
    });
  });
});

describe('guest agent protocol', () => {
  it('frames commands as one JSON line, and a sync with a leading 0xFF', () => {
    expect(encodeCommand('guest-ping').toString()).toBe('{"execute":"guest-ping"}\n');
    expect(encodeCommand('guest-exec-status', { pid: 7 }).toString()).toBe('{"execute":"guest-exec-status","arguments":{"pid":7}}\n');
    const sync = encodeSync(42);
    expect(sync[0]).toBe(SYNC_BYTE);
    expect(sync.subarray(1).toString()).toBe('{"execute":"guest-sync-delimited","arguments":{"id":42}}\n');
  });

  it('decodes responses split across chunks and joined in one', () => {
    const decoder = new AgentDecoder();
    expect(decoder.push(Buffer.from('{"return": {"pi'))).toEqual([]);
    expect(decoder.push(Buffer.from('d": 12}}\n{"return": {}}\n{"err'))).toEqual([
      { kind: 'response', value: { return: { pid: 12 } } },
      { kind: 'response', value: { return: {} } },
    ]);
    expect(decoder.push(Buffer.from('or": {"class": "GenericError", "desc": "no"}}\n'))).toEqual([
      { kind: 'response', value: { error: { class: 'GenericError', desc: 'no' } } },
    ]);
  });

  it('drops stale output before the sync marker, even half an object', () => {
    const decoder = new AgentDecoder();
    const stream = Buffer.concat([Buffer.from('{"return": {"stale": "ha'), Buffer.from([SYNC_BYTE]), Buffer.from('{"return": 42}\n')]);
    const messages = decoder.push(stream);
    expect(messages).toEqual([{ kind: 'sync-marker' }, { kind: 'response', value: { return: 42 } }]);
    expect(isSyncReply({ return: 42 }, 42)).toBe(true);
    expect(isSyncReply({ return: 41 }, 42)).toBe(false);
  });

  it('is not fooled by braces and escaped quotes inside strings', () => {
    const decoder = new AgentDecoder();
    const value = { return: { desc: 'a } "quoted" { \\ brace' } };
    const bytes = Buffer.from(`${JSON.stringify(value)}\n`);
    const out = [];
    for (const byte of bytes) out.push(...decoder.push(Buffer.from([byte])));
    expect(out).toEqual([{ kind: 'response', value }]);
  });

  it('renders guest-exec arguments with base64 input', () => {
    expect(guestExecArgs(['/bin/sh', '-c', 'cat'], 'hello')).toEqual({
      path: '/bin/sh',
      arg: ['-c', 'cat'],
      'capture-output': true,
      'input-data': 'aGVsbG8=',
    });
    expect(guestExecArgs(['/bin/true'])).toEqual({ path: '/bin/true', arg: [], 'capture-output': true });
    expect(parseExecPid({ pid: 981 })).toBe(981);
    expect(() => parseExecPid({})).toThrow(/no pid/);
  });

  it('decodes guest-exec-status: running, exited with base64 output, killed by a signal', () => {
    expect(decodeExecStatus({ exited: false })).toMatchObject({ exited: false, exitCode: undefined, stdout: '' });
    expect(
      decodeExecStatus({
        exited: true,
        exitcode: 3,
        'out-data': Buffer.from('active\n').toString('base64'),
        'err-data': Buffer.from('oops').toString('base64'),
      }),
    ).toEqual({ exited: true, exitCode: 3, signal: undefined, stdout: 'active\n', stderr: 'oops', truncated: false });
    expect(decodeExecStatus({ exited: true, signal: 9, 'out-truncated': true })).toMatchObject({ signal: 9, truncated: true });
  });

  it('names agent errors by class and description', () => {
    expect(describeAgentError({ error: { class: 'GenericError', desc: 'Failed to execute child process' } })).toBe(
      'GenericError: Failed to execute child process',
    );
    expect(describeAgentError({ return: {} })).toBeUndefined();
  });
});

describe('guest agent client against a fake agent on a unix socket', () => {
  /** Answers like qemu-ga: sync-delimited with 0xFF, exec with a pid, status with base64 output. */
  async function fakeAgent(options: { staleBeforeSync?: boolean } = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-qga-'));
    const path = join(dir, 'qga.sock');
    const seen: string[] = [];
    const server = createServer((socket) => {
      const decoder = new AgentDecoder();
      if (options.staleBeforeSync) socket.write('{"return": {"pid": 999}}\n');
      socket.on('data', (chunk) => {
        for (const message of decoder.push(chunk)) {
          if (message.kind !== 'response') continue;
          const request = message.value as { execute: string; arguments?: Record<string, unknown> };
          seen.push(request.execute);
          if (request.execute === 'guest-sync-delimited') {
            socket.write(Buffer.concat([Buffer.from([SYNC_BYTE]), Buffer.from(`{"return": ${String(request.arguments?.id)}}\n`)]));
          } else if (request.execute === 'guest-exec') {
            const args = request.arguments as { arg: string[] };
            socket.write(`{"return": {"pid": ${args.arg.includes('exit 3') ? 2 : 1}}}\n`);
          } else if (request.execute === 'guest-exec-status') {
            const pid = (request.arguments as { pid: number }).pid;
            const out = Buffer.from(pid === 1 ? 'active\n' : '').toString('base64');
            socket.write(`{"return": {"exited": true, "exitcode": ${pid === 1 ? 0 : 3}, "out-data": "${out}"}}\n`);
          } else {
            socket.write('{"error": {"class": "CommandNotFound", "desc": "nope"}}\n');
          }
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return {
      path,
      seen,
      close: () => new Promise<void>((resolve) => server.close(() => {
        rmSync(dir, { recursive: true, force: true });
        resolve();
      })),
    };
  }

  it('syncs first, then runs commands and decodes their output', async () => {
    const fake = await fakeAgent({ staleBeforeSync: true });
    const agent = new GuestAgent('web-arm', fake.path);
    try {
      await agent.waitForAgent(5_000);
      expect(await agent.succeed('systemctl is-active multi-user.target')).toBe('active\n');
      await agent.waitForUnit('multi-user.target', 5_000);
      const failed = await agent.execute('exit 3');
      expect(failed.exitCode).toBe(3);
      await expect(agent.succeed('exit 3')).rejects.toThrow(/exit code 3/);
      await expect(agent.command('guest-bogus')).rejects.toThrow(/CommandNotFound: nope/);
      expect(fake.seen[0]).toBe('guest-sync-delimited');
      expect(fake.seen).toContain('guest-exec-status');
    } finally {
      agent.close();
      await fake.close();
    }
  });

  it('times out when nothing answers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'v6lab-qga-'));
    const path = join(dir, 'qga.sock');
    const server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const agent = new GuestAgent('web-arm', path);
    try {
      const started = performance.now();
      await expect(agent.sync(300)).rejects.toThrow(/did not answer guest-sync-delimited within 300 ms/);
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      agent.close();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
