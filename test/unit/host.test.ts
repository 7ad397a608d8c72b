import { describe, expect, it } from 'vitest';
import { HOST_REQUIREMENTS, missingPackages } from '../../lab/host/packages.ts';
import { imageTag, mmdebstrapArgv, nodeImageRecipe, recipeHash, RESPONDER_PATH, type ImageRecipe } from '../../lab/images/recipe.ts';
import { renderContainersConf, renderStorageConf, settingsFor, type HostFacts } from '../../lab/podman/hostSettings.ts';

const FULL: HostFacts = { systemdIsInit: true, unifiedCgroups: true, crunInstalled: true, nofileHardLimit: 1_048_576 };

describe('settingsFor', () => {
  it('uses podman defaults on a full systemd host with cgroup v2 and crun', () => {
    expect(settingsFor(FULL)).toEqual({
      runtime: 'crun',
      cgroupManager: 'systemd',
      eventsLogger: 'journald',
      defaultUlimits: [],
      reasons: [],
    });
    expect(settingsFor({ ...FULL, nofileHardLimit: Number.MAX_SAFE_INTEGER }).defaultUlimits).toEqual([]);
  });

  it('falls back to runc without crun or on a hybrid cgroup layout, saying why', () => {
    const noCrun = settingsFor({ ...FULL, crunInstalled: false });
    expect(noCrun.runtime).toBe('runc');
    expect(noCrun.reasons).toEqual(['runtime runc: crun is not installed']);
    const hybrid = settingsFor({ ...FULL, unifiedCgroups: false });
    expect(hybrid.runtime).toBe('runc');
    expect(hybrid.reasons).toEqual(['runtime runc: crun fails on a hybrid cgroup layout']);
    const both = settingsFor({ ...FULL, crunInstalled: false, unifiedCgroups: false });
    expect(both.runtime).toBe('runc');
    expect(both.reasons).toEqual(['runtime runc: crun is not installed']);
  });

  it('uses cgroupfs and a file events logger when systemd is not PID 1', () => {
    const s = settingsFor({ ...FULL, systemdIsInit: false });
    expect(s).toMatchObject({ runtime: 'crun', cgroupManager: 'cgroupfs', eventsLogger: 'file' });
    expect(s.reasons).toEqual(['cgroup manager cgroupfs and events logger file: systemd is not PID 1']);
  });

  it('lowers the ulimits below a low hard limit', () => {
    const s = settingsFor({ ...FULL, nofileHardLimit: 524_288 });
    expect(s.defaultUlimits).toEqual(['nofile=1024:1024', 'nproc=1024:1024']);
    expect(s.reasons).toEqual(['ulimits lowered to nofile=1024: the process cannot raise its hard limit (524288)']);
    const tiny = settingsFor({ ...FULL, nofileHardLimit: 512 });
    expect(tiny.defaultUlimits).toEqual(['nofile=512:512', 'nproc=1024:1024']);
    // Just below the podman default still counts as low.
    expect(settingsFor({ ...FULL, nofileHardLimit: 1_048_575 }).defaultUlimits).toHaveLength(2);
  });

  it('covers every combination consistently', () => {
    for (const systemdIsInit of [true, false]) {
      for (const unifiedCgroups of [true, false]) {
        for (const crunInstalled of [true, false]) {
          for (const nofileHardLimit of [4096, 1_048_576]) {
            const facts = { systemdIsInit, unifiedCgroups, crunInstalled, nofileHardLimit };
            const s = settingsFor(facts);
            const label = JSON.stringify(facts);
            expect(s.runtime, label).toBe(crunInstalled && unifiedCgroups ? 'crun' : 'runc');
            expect(s.cgroupManager, label).toBe(systemdIsInit ? 'systemd' : 'cgroupfs');
            expect(s.eventsLogger, label).toBe(systemdIsInit ? 'journald' : 'file');
            expect(s.defaultUlimits.length > 0, label).toBe(nofileHardLimit < 1_048_576);
            const expectedReasons = (s.runtime === 'runc' ? 1 : 0) + (systemdIsInit ? 0 : 1) + (s.defaultUlimits.length ? 1 : 0);
            expect(s.reasons, label).toHaveLength(expectedReasons);
          }
        }
      }
    }
  });
});

describe('renderContainersConf / renderStorageConf', () => {
  const paths = { tmpDir: '/run/v6lab/main/web-arm/tmp', networkConfigDir: '/var/lib/v6lab/main/etc/containers/networks' };

  it('renders the engine and network sections for the settings', () => {
    const text = renderContainersConf(settingsFor({ ...FULL, systemdIsInit: false, crunInstalled: false, nofileHardLimit: 4096 }), paths);
    const lines = text.split('\n');
    expect(lines[0]!.startsWith('#')).toBe(true);
    expect(lines).toContain('[containers]');
    expect(lines).toContain('default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]');
    expect(lines).toContain('[engine]');
    expect(lines).toContain('runtime = "runc"');
    expect(lines).toContain('cgroup_manager = "cgroupfs"');
    expect(lines).toContain('events_logger = "file"');
    expect(lines).toContain('tmp_dir = "/run/v6lab/main/web-arm/tmp"');
    expect(lines).toContain('[network]');
    expect(lines).toContain('network_backend = "netavark"');
    expect(lines).toContain('network_config_dir = "/var/lib/v6lab/main/etc/containers/networks"');
    // Sections in order, each key under its own section.
    expect(lines.indexOf('[containers]')).toBeLessThan(lines.indexOf('default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]'));
    expect(lines.indexOf('[engine]')).toBeLessThan(lines.indexOf('runtime = "runc"'));
    expect(lines.indexOf('runtime = "runc"')).toBeLessThan(lines.indexOf('[network]'));
    expect(text.endsWith('\n')).toBe(true);
  });

  it('leaves out default_ulimits when none are needed, and uses systemd settings', () => {
    const text = renderContainersConf(settingsFor(FULL), paths);
    expect(text).not.toContain('default_ulimits');
    expect(text).toContain('runtime = "crun"');
    expect(text).toContain('cgroup_manager = "systemd"');
    expect(text).toContain('events_logger = "journald"');
  });

  it('takes its locks as files in its own tmp_dir, never the machine-wide shared-memory segment', () => {
    const lines = renderContainersConf(settingsFor(FULL), paths).split('\n');
    expect(lines).toContain('lock_type = "file"');
    expect(lines.indexOf('[engine]')).toBeLessThan(lines.indexOf('lock_type = "file"'));
    expect(lines.indexOf('lock_type = "file"')).toBeLessThan(lines.indexOf('[network]'));
  });

  it('quotes paths as TOML strings', () => {
    const text = renderContainersConf(settingsFor(FULL), { tmpDir: '/tmp/a "b"\\c', networkConfigDir: '/n' });
    expect(text).toContain('tmp_dir = "/tmp/a \\"b\\"\\\\c"');
  });

  it('renders storage.conf with overlay and the given roots', () => {
    expect(renderStorageConf('/var/lib/v6lab/main/storage', '/run/v6lab/main/storage')).toBe(
      '# Generated by v6lab\n[storage]\ndriver = "overlay"\ngraphroot = "/var/lib/v6lab/main/storage"\nrunroot = "/run/v6lab/main/storage"\n',
    );
  });
});

describe('missingPackages', () => {
  it('is empty when every file exists, and lists every package when none does', () => {
    expect(missingPackages(() => true)).toEqual([]);
    expect(missingPackages(() => false)).toEqual(HOST_REQUIREMENTS.map((r) => r.pkg));
    expect(missingPackages(() => false)).toEqual(expect.arrayContaining(['iproute2', 'podman', 'netavark', 'mmdebstrap', 'tcpdump', 'nftables']));
  });

  it('accepts any of the alternative paths of a package', () => {
    const present = new Set(['/sbin/ip', '/usr/libexec/podman/netavark']);
    const missing = missingPackages((p) => present.has(p));
    expect(missing).not.toContain('iproute2');
    expect(missing).not.toContain('netavark');
    expect(missing).toContain('podman');
    expect(missing).toHaveLength(HOST_REQUIREMENTS.length - 2);
  });

  it('asks about paths only, in the order listed', () => {
    const asked: string[] = [];
    missingPackages((p) => {
      asked.push(p);
      return false;
    });
    expect(asked).toEqual(HOST_REQUIREMENTS.flatMap((r) => r.path));
    for (const p of asked) expect(p.startsWith('/')).toBe(true);
  });
});

describe('image recipe', () => {
  const recipe = nodeImageRecipe('bookworm', 'http://deb.debian.org/debian', 'amd64');
  const content = (text: string) => (path: string) => {
    expect(path).toBe(RESPONDER_PATH);
    return Buffer.from(text);
  };

  it('copies the responder into /usr/local/bin and installs the network tools', () => {
    expect(recipe.files).toEqual([[RESPONDER_PATH, '/usr/local/bin']]);
    expect(RESPONDER_PATH.endsWith('lab/images/node/v6lab-responder')).toBe(true);
    expect(recipe.packages).toEqual(expect.arrayContaining(['iproute2', 'tcpdump', 'dnsmasq-base', 'python3', 'netcat-openbsd']));
  });

  it('hashes stably to 12 hex characters', () => {
    const h = recipeHash(recipe, content('v1'));
    expect(h).toMatch(/^[0-9a-f]{12}$/);
    expect(recipeHash(recipe, content('v1'))).toBe(h);
    expect(recipeHash(nodeImageRecipe('bookworm', 'http://deb.debian.org/debian', 'amd64'), content('v1'))).toBe(h);
    // The real file works too.
    expect(recipeHash(recipe)).toMatch(/^[0-9a-f]{12}$/);
    expect(recipeHash(recipe)).toBe(recipeHash(recipe));
  });

  it('changes when a copied file, the suite, mirror or packages change', () => {
    const h = recipeHash(recipe, content('v1'));
    expect(recipeHash(recipe, content('v2'))).not.toBe(h);
    expect(recipeHash(nodeImageRecipe('trixie', 'http://deb.debian.org/debian', 'amd64'), content('v1'))).not.toBe(h);
    expect(recipeHash(nodeImageRecipe('bookworm', 'http://mirror.example/debian', 'amd64'), content('v1'))).not.toBe(h);
    const more: ImageRecipe = { ...recipe, packages: [...recipe.packages, 'iperf3'] };
    expect(recipeHash(more, content('v1'))).not.toBe(h);
    const elsewhere: ImageRecipe = { ...recipe, files: [[RESPONDER_PATH, '/opt/bin']] };
    expect(recipeHash(elsewhere, content('v1'))).not.toBe(h);
  });

  it('is per architecture: the arch is in the recipe, its hash and so its tag and mmdebstrap argv', () => {
    const arm = nodeImageRecipe('bookworm', 'http://deb.debian.org/debian', 'arm64');
    expect(recipe.arch).toBe('amd64');
    expect(arm.arch).toBe('arm64');
    // Same content otherwise: one recipe, built for two architectures.
    expect({ ...arm, arch: 'amd64' }).toEqual(recipe);
    const amdHash = recipeHash(recipe, content('v1'));
    const armHash = recipeHash(arm, content('v1'));
    expect(armHash).not.toBe(amdHash);
    expect(imageTag(arm, armHash)).not.toBe(imageTag(recipe, amdHash));
    expect(mmdebstrapArgv(arm, '/o.tar')).toContain('--architectures=arm64');
    expect(mmdebstrapArgv(recipe, '/o.tar')).toContain('--architectures=amd64');
  });

  it('does not depend on where the source file sits on this machine, only its content', () => {
    const moved: ImageRecipe = { ...recipe, files: [['/somewhere/else/v6lab-responder', '/usr/local/bin']] };
    expect(recipeHash(moved, () => Buffer.from('v1'))).toBe(recipeHash(recipe, content('v1')));
  });

  it('tags the image with the hash', () => {
    expect(imageTag(recipe, 'abc123def456')).toBe('localhost/v6lab-node:abc123def456');
  });

  it('builds an mmdebstrap argv that ends with suite, the .tar output and the mirror', () => {
    const argv = mmdebstrapArgv(recipe, '/var/cache/v6lab/v6lab-node.tar');
    expect(argv[0]).toBe('mmdebstrap');
    expect(argv.slice(-3)).toEqual(['bookworm', '/var/cache/v6lab/v6lab-node.tar', 'http://deb.debian.org/debian']);
    expect(argv).toContain('--variant=apt');
    expect(argv).toContain(`--include=${recipe.packages.join(',')}`);
    expect(argv).toContain('--dpkgopt=path-exclude=/usr/share/doc/*');
    expect(argv).toContain(`--customize-hook=copy-in ${RESPONDER_PATH} /usr/local/bin`);
    // Options all come before the positional arguments.
    const firstPositional = argv.length - 3;
    for (const a of argv.slice(1, firstPositional)) expect(a.startsWith('--')).toBe(true);
  });
});
