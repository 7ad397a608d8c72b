/**
 * The bench's floor: the least a script has to do to get what the lab's egress check gets,
 * done raw through lab/exec.ts with no lab machinery on top: two namespaces and a veth, the
 * machine's podman inside one (lab-private root, runroot, network config dir and
 * containers.conf, a private /run like web-arm's), a dual-stack network, one container from
 * the lab's node image (imported from the cached rootfs tarball) doing one HTTP GET to a
 * responder in the other namespace, then everything removed again.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HostError, LabBrokenError } from '../lab/errors.ts';
import { nsenterArgv, run, spawnDaemon, succeed } from '../lab/exec.ts';
import { ensurePrivateMount, unmountUnder } from '../lab/host/mounts.ts';
import { killProcesses, nsInode } from '../lab/host/processes.ts';
import { ensureRootfs } from '../lab/images/cache.ts';
import { machineArch } from '../lab/images/buildArch.ts';
import { nodeImageRecipe, RESPONDER_PATH } from '../lab/images/recipe.ts';
import { createNetns, deleteNetns, ipIn, netnsPath, sysctlIn } from '../lab/links/netns.ts';
import { createVeth, deleteLink, listRootLinks } from '../lab/links/veth.ts';
import { readHostFacts, renderContainersConf, settingsFor } from '../lab/podman/hostSettings.ts';
import { silentProgress } from '../lab/progress.ts';
import { defaultConfig } from '../lab/topology/config.ts';
import { labHash, runtimeRootFor } from '../lab/topology/plan.ts';
import { waitUntil } from '../lab/wait.ts';

export interface FloorStep {
  step: string;
  ms: number;
}

export interface FloorResult {
  steps: FloorStep[];
  totalMs: number;
  /** What the responder said it saw: the host side's address (masqueraded by netavark). */
  seen: string;
}

/** Everything the floor names, derived from one name (marks like a lab's: v6lab-<name>-…). */
export function floorLayout(name: string, stateRoot = resolve('.lab')) {
  const runtimeDir = runtimeRootFor(name);
  const stateDir = join(stateRoot, name);
  return {
    name,
    host: `v6lab-${name}-host`,
    peer: `v6lab-${name}-peer`,
    linkPrefix: `v6l${labHash(name)}`,
    runtimeDir,
    mountNsFile: join(runtimeDir, 'host.mnt'),
    runRoot: join(runtimeDir, 'runroot'),
    tmpDir: join(runtimeDir, 'libpod'),
    containersConf: join(runtimeDir, 'containers.conf'),
    responderLog: join(runtimeDir, 'responder.log'),
    graphRoot: join(stateDir, 'storage'),
    networkConfigDir: join(stateDir, 'networks'),
    stateDir,
    network: 'floor',
    subnets: ['10.90.0.0/24', 'fd00:f1:f1::/64'],
    hostAddress6: '2001:db8:f::1',
    peerAddress6: '2001:db8:f::2',
    hostAddress4: '192.0.2.1',
    peerAddress4: '192.0.2.2',
  };
}

export type FloorLayout = ReturnType<typeof floorLayout>;

function podmanArgv(l: FloorLayout, args: string[]): string[] {
  return nsenterArgv({ net: netnsPath(l.host), mount: l.mountNsFile }, [
    'env',
    `CONTAINERS_CONF=${l.containersConf}`,
    'podman',
    '--root',
    l.graphRoot,
    '--runroot',
    l.runRoot,
    '--network-config-dir',
    l.networkConfigDir,
    ...args,
  ]);
}

export async function runFloor(name = 'benchfloor'): Promise<FloorResult> {
  const l = floorLayout(name);
  if (!existsSync('/usr/bin/python3')) throw new HostError('The floor runs its HTTP responder with /usr/bin/python3. Fix: apt-get install python3');
  const steps: FloorStep[] = [];
  const timed = async <T>(step: string, fn: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await fn();
    steps.push({ step, ms: Math.round(performance.now() - started) });
    return result;
  };
  // Not timed: the rootfs tarball is the lab's cache, built once per recipe (lab up builds it too).
  const config = defaultConfig();
  const rootfs = await ensureRootfs(nodeImageRecipe(config.image.suite, config.image.mirror, machineArch()), silentProgress);
  const tag = rootfs.tag;
  await cleanupFloor(l);

  const started = performance.now();
  let seen = '';
  try {
    await timed('namespaces + veth', async () => {
      await createNetns(l.host);
      await createNetns(l.peer);
      await createVeth({ netns: l.host, tmpName: `${l.linkPrefix}f0`, name: 'eth0' }, { netns: l.peer, tmpName: `${l.linkPrefix}f1`, name: 'eth0' }, `v6lab:${name}`);
      for (const ns of [l.host, l.peer]) {
        await sysctlIn(ns, { 'net.ipv6.conf.all.accept_dad': 0, 'net.ipv6.conf.default.accept_dad': 0, 'net.ipv6.conf.eth0.accept_dad': 0 });
        await succeed(ipIn(ns, 'link', 'set', 'dev', 'lo', 'up'));
      }
      await sysctlIn(l.host, { 'net.ipv6.conf.all.forwarding': 1, 'net.ipv4.ip_forward': 1 });
      await succeed(ipIn(l.host, '-6', 'addr', 'add', `${l.hostAddress6}/64`, 'dev', 'eth0', 'nodad'));
      await succeed(ipIn(l.peer, '-6', 'addr', 'add', `${l.peerAddress6}/64`, 'dev', 'eth0', 'nodad'));
      await succeed(ipIn(l.host, '-4', 'addr', 'add', `${l.hostAddress4}/24`, 'dev', 'eth0'));
      await succeed(ipIn(l.peer, '-4', 'addr', 'add', `${l.peerAddress4}/24`, 'dev', 'eth0'));
      await succeed(ipIn(l.host, '-6', 'route', 'add', 'default', 'via', l.peerAddress6, 'dev', 'eth0'));
      await succeed(ipIn(l.host, '-4', 'route', 'add', 'default', 'via', l.peerAddress4, 'dev', 'eth0'));
    });
    await timed('podman config + private /run (mount namespace)', async () => {
      await ensurePrivateMount(l.runtimeDir);
      for (const dir of [l.runRoot, l.tmpDir, l.graphRoot, l.networkConfigDir]) mkdirSync(dir, { recursive: true });
      writeFileSync(l.containersConf, renderContainersConf(settingsFor(readHostFacts()), { tmpDir: l.tmpDir, networkConfigDir: l.networkConfigDir }));
      writeFileSync(l.mountNsFile, '');
      const privateRun = ['/run/netns', '/run/containers', '/run/runc', '/run/crun', '/run/podman'];
      await succeed(['unshare', `--mount=${l.mountNsFile}`, '--propagation', 'private', '--', 'sh', '-c',
        ['set -e', ...privateRun.map((d) => `mkdir -p ${d} && mount -t tmpfs -o mode=0755 v6lab-floor-run ${d}`)].join('\n')]);
    });
    await timed('import the node image', () =>
      run(podmanArgv(l, ['import', '--change', 'CMD ["/bin/sleep", "infinity"]', rootfs.tarball, tag]), { timeoutMs: 5 * 60_000 }),
    );
    await timed('dual-stack podman network', () =>
      run(podmanArgv(l, ['network', 'create', '--ipv6', ...l.subnets.flatMap((s) => ['--subnet', s]), l.network])),
    );
    await timed('responder in the other namespace', async () => {
      spawnDaemon(nsenterArgv({ net: netnsPath(l.peer) }, ['/usr/bin/python3', RESPONDER_PATH, '--name', 'floor', '--http', '80']), { logFile: l.responderLog });
      await waitUntil('the floor responder', async () => existsSync(l.responderLog) && readFileSync(l.responderLog, 'utf8').includes('"ready"'), {
        timeoutMs: 10_000,
        intervalMs: 20,
      });
    });
    seen = await timed('one container, one HTTP GET', () =>
      succeed(podmanArgv(l, ['run', '--rm', `--network=${l.network}`, tag, 'curl', '-6', '-sS', '-m', '10', `http://[${l.peerAddress6}]/`]), { timeoutMs: 60_000 }),
    );
    if (seen.trim() !== l.hostAddress6) {
      throw new LabBrokenError(`floor: the responder saw ${JSON.stringify(seen.trim())}, expected the host side's ${l.hostAddress6} (masqueraded)`);
    }
  } finally {
    await timed('clean up everything', () => cleanupFloor(l));
  }
  return { steps, totalMs: Math.round(performance.now() - started), seen: seen.trim() };
}

/** Removes everything the floor creates, found by its marks; idempotent. */
export async function cleanupFloor(l: FloorLayout): Promise<void> {
  if (existsSync(l.mountNsFile) && existsSync(l.containersConf) && nsInode(netnsPath(l.host)) !== undefined) {
    await run(podmanArgv(l, ['rm', '-a', '-f', '-t', '0']), { allowFailure: true });
    await run(podmanArgv(l, ['network', 'rm', '-f', l.network]), { allowFailure: true });
  }
  for (const ns of [l.host, l.peer]) {
    const inode = nsInode(netnsPath(ns));
    if (inode !== undefined) await killProcesses({ netnsInode: inode });
  }
  await killProcesses({ mountsContain: l.graphRoot });
  await run(['umount', '-l', l.mountNsFile], { allowFailure: true });
  for (const ns of [l.host, l.peer]) await deleteNetns(ns);
  for (const link of await listRootLinks(l.linkPrefix)) await deleteLink(link);
  await unmountUnder(l.graphRoot);
  await unmountUnder(l.runtimeDir);
  rmSync(l.runtimeDir, { recursive: true, force: true });
  rmSync(l.stateDir, { recursive: true, force: true });
}
