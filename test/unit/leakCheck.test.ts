import { describe, expect, it } from 'vitest';
import { findLeaks, isOtherCheckoutsCli, labOfText, type MachineSnapshot } from '../../lab/host/leakCheck.ts';

const empty: MachineSnapshot = { containers: [], netns: [], links: ['lo', 'eth0'], routes: [], rules: [], mounts: ['/'], cgroups: [], processes: { '1': 'init' }, owners: {} };

describe('leak check', () => {
  it('finds a namespace, link, route, mount, cgroup and process that appeared', () => {
    const after: MachineSnapshot = {
      ...empty,
      netns: ['v6lab-ci1-web-arm'],
      links: ['lo', 'eth0', 'v6l0123456789w0'],
      routes: ['2001:db8::/64 dev eth0'],
      mounts: ['/', '/run/v6lab/ci1'],
      cgroups: ['/sys/fs/cgroup/pids/libpod_parent/libpod-' + 'a'.repeat(64)],
      processes: { '1': 'init', '42': 'podman system service' },
      containers: ['v6lab-ci1-upstream'],
    };
    const kinds = findLeaks(empty, after).map((l) => l.kind).sort();
    expect(kinds).toEqual(['cgroup', 'container', 'link', 'mount', 'netns', 'process', 'route']);
  });
  it('leaves out the caller\'s processes and what another lab owns, but not its own lab\'s', () => {
    const after: MachineSnapshot = {
      ...empty,
      netns: ['v6lab-other-web-arm', 'v6lab-ci1-web-arm'],
      mounts: ['/', '/run/v6lab/other'],
      processes: { '1': 'init', '7': 'vitest worker', '8': 'conmon -n v6lab-other-upstream', '9': 'conmon -n v6lab-ci1-upstream' },
      owners: { '8': 'other', '9': 'ci1' },
    };
    const leaks = findLeaks(empty, after, { ignorePids: new Set(['7']), lab: 'ci1' });
    expect(leaks).toEqual([
      { kind: 'netns', what: 'v6lab-ci1-web-arm' },
      { kind: 'process', what: '9 conmon -n v6lab-ci1-upstream' },
    ]);
  });
  it('attributes texts to labs by their marks', () => {
    expect(labOfText('/run/netns/v6lab-main-upstream')).toBe('main');
    expect(labOfText('podman --root /work/.lab/ci7/web-arm/storage')).toBe('ci7');
    expect(labOfText('V6LAB_LAB=it12 node')).toBe('it12');
    expect(labOfText('sleep infinity')).toBeUndefined();
  });
});

describe('leak check for a named lab', () => {
  it('counts lab programs and the lab\'s own processes, not a developer\'s shell', () => {
    const after: MachineSnapshot = {
      ...empty,
      processes: { '1': 'init', '20': 'bash /dev/fd/3', '21': 'grep -E x', '22': '/usr/bin/conmon --api-version 1', '23': 'python3 server.py' },
      owners: { '23': 'ci1' },
    };
    expect(findLeaks(empty, after, { lab: 'ci1' }).map((l) => l.what)).toEqual(['22 /usr/bin/conmon --api-version 1', '23 python3 server.py']);
  });
});

describe("another checkout's CLI", () => {
  it('is told apart from this checkout\'s by the path of lab/cli/main.ts', () => {
    const mine = '/work/main/lab/cli/main.ts';
    expect(isOtherCheckoutsCli('/usr/bin/node /work/wt-21/lab/cli/main.ts exec --help', mine)).toBe(true);
    expect(isOtherCheckoutsCli('/usr/bin/node /work/main/lab/cli/main.ts up --name hy1', mine)).toBe(false);
    // lab.mjs is the entry point children get (compare, forks, bench): the same checkout either way.
    expect(isOtherCheckoutsCli('/usr/bin/node /work/main/lab/cli/lab.mjs up --name hy1', '/work/main/lab/cli/lab.mjs')).toBe(false);
    expect(isOtherCheckoutsCli('/usr/bin/node /work/main/lab/cli/main.ts up --name hy1', '/work/main/lab/cli/lab.mjs')).toBe(false);
    expect(isOtherCheckoutsCli('/usr/bin/node /work/wt-21/lab/cli/lab.mjs test', '/work/main/lab/cli/lab.mjs')).toBe(true);
    expect(isOtherCheckoutsCli('/usr/bin/podman ps', mine)).toBe(false);
  });
});

describe('a build in progress', () => {
  it("counts another lab's guest image build (its chroot mounts in .partial-<pid>) as that lab's, and one without a live owner as a leak", async () => {
    const { partialBuildOwners, findLeaks } = await import('../../lab/host/leakCheck.ts');
    const mounts = ['/root/.cache/v6lab/qemu/24809a336395.partial-26771/rootfs/proc', '/root/.cache/v6lab/qemu/24809a336395.partial-999/rootfs/sys'];
    const owners = partialBuildOwners(mounts, { '26771': 'h19cq' });
    expect(owners).toEqual({ [mounts[0]!]: 'h19cq' });
    const empty = { netns: [], links: [], routes: [], rules: [], mounts: [], cgroups: [], processes: {}, containers: [], owners: {} };
    const leaks = findLeaks(empty, { ...empty, mounts, owners }, { lab: 'soak1' });
    expect(leaks).toEqual([{ kind: 'mount', what: mounts[1] }]);
  });
});
