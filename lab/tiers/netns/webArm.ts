/**
 * web-arm on the netns tier: a network namespace plus a persistent mount namespace (its own
 * /etc/resolv.conf and /run/netns), with the machine's podman run inside on lab-private
 * storage and config. Kernel state is real; systemd is emulated (unitRunner.ts).
 */
import Docker from 'dockerode';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabBrokenError } from '../../errors.ts';
import { nsenterArgv, run, succeed } from '../../exec.ts';
import { createNetns, deleteNetns, ipIn, netnsPath, sysctlIn } from '../../links/netns.ts';
import { killProcesses, nsInode } from '../../host/processes.ts';
import { renderContainersConf, renderStorageConf, type PodmanHostSettings } from '../../podman/hostSettings.ts';
import type { LabPlan } from '../../topology/plan.ts';
import { renderWebArmResolvConf } from '../../topology/v6only.ts';
import { writeNetavarkWrapper } from './netavarkWrapper.ts';
import { waitUntil } from '../../wait.ts';

export const WEB_ARM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function webArmPodmanEnv(plan: LabPlan): Record<string, string> {
  return {
    PATH: WEB_ARM_PATH,
    CONTAINERS_CONF: join(plan.webArm.etcDir, 'containers', 'containers.conf'),
    CONTAINERS_STORAGE_CONF: join(plan.webArm.etcDir, 'containers', 'storage.conf'),
  };
}

/** argv that runs argv inside web-arm (its network and mount namespaces, its podman config). */
export function webArmArgv(plan: LabPlan, argv: readonly string[]): string[] {
  const env = Object.entries(webArmPodmanEnv(plan)).map(([k, v]) => `${k}=${v}`);
  return [...webArmEnterArgv(plan), 'env', ...env, ...argv];
}

/** The argv prefix that enters web-arm's network and mount namespaces. */
export function webArmEnterArgv(plan: LabPlan): string[] {
  return nsenterArgv({ net: plan.webArm.netnsPath, mount: plan.webArm.mountNsFile }, []);
}

export function webArmDocker(plan: LabPlan): Docker {
  return new Docker({ socketPath: plan.webArm.apiSocket });
}

/**
 * Writes web-arm's persistent /etc: podman config (netavark through the lab's wrapper,
 * netavarkWrapper.ts), resolv.conf, hosts. imageStores: read-only
 * image stores podman also takes images from (the shared node image store).
 */
export function writeWebArmEtc(plan: LabPlan, settings: PodmanHostSettings, imageStores: string[] = []): void {
  const w = plan.webArm;
  const containersDir = join(w.etcDir, 'containers');
  mkdirSync(w.networkConfigDir, { recursive: true });
  mkdirSync(w.graphRoot, { recursive: true });
  // netavark through the lab's wrapper: netavark 1.14's DNS accepts beside the machine's 1.4.
  const helperBinariesDirs = writeNetavarkWrapper(w.persistentDir);
  writeFileSync(
    join(containersDir, 'containers.conf'),
    renderContainersConf(settings, { tmpDir: join(w.runDir, 'libpod'), networkConfigDir: w.networkConfigDir, helperBinariesDirs }),
  );
  writeFileSync(join(containersDir, 'storage.conf'), renderStorageConf(w.graphRoot, join(w.runDir, 'containers'), imageStores));
  writeFileSync(join(w.etcDir, 'resolv.conf'), renderWebArmResolvConf(plan.config, ''));
  writeFileSync(join(w.etcDir, 'hosts'), `127.0.0.1 localhost\n::1 localhost\n127.0.1.1 ${plan.config.webArm.hostname}\n`);
  writeFileSync(join(w.etcDir, 'hostname'), `${plan.config.webArm.hostname}\n`);
}

/** Creates web-arm's network and mount namespaces ("power on"). Idempotent. */
export async function createWebArmNamespaces(plan: LabPlan): Promise<void> {
  const w = plan.webArm;
  mkdirSync(w.runDir, { recursive: true });
  await createNetns(w.netnsName);
  if (nsInode(w.mountNsFile) !== undefined && (await isNamespaceMount(w.mountNsFile))) return;
  writeFileSync(w.mountNsFile, '');
  await succeed(['unshare', `--mount=${w.mountNsFile}`, '--propagation', 'private', '--', 'sh', '-c', privateRunScript(plan)]);
}

/**
 * The setup of web-arm's mount namespace: its /run is its own, a tmpfs, as a host's is: podman's
 * network run dir (aardvark-dns config), runc's state, container netns files and the units'
 * RuntimeDirectory= (/run/<name>, e.g. a container's id file) live there. Shared with the
 * machine they would collide with other labs' web-arms, leave directories on the machine and
 * survive an emulated reboot. The lab's runtime directory (web-arm's podman runroot and API
 * socket, the emulated systemd's state) is bound back in at its path, so the machine and
 * web-arm see the same files there. Everything vanishes with the namespace.
 */
export function privateRunScript(plan: LabPlan): string {
  const w = plan.webArm;
  const keep = plan.runtimeDir.startsWith('/run/') ? plan.runtimeDir : undefined;
  const stash = join(w.persistentDir, '.run-stash');
  return [
    'set -e',
    ...(keep ? [`mkdir -p ${stash}`, `mount --bind ${keep} ${stash}`] : []),
    'mount -t tmpfs -o mode=0755 v6lab-web-arm-run /run',
    ...(keep ? [`mkdir -p ${keep}`, `mount --move ${stash} ${keep}`] : []),
    'mkdir -p /run/netns /run/containers /run/runc /run/crun /run/podman /run/lock',
    `mount --bind ${join(w.etcDir, 'resolv.conf')} /etc/resolv.conf`,
    `mount --bind ${join(w.etcDir, 'hosts')} /etc/hosts`,
  ].join('\n');
}

async function isNamespaceMount(file: string): Promise<boolean> {
  const result = await run(['findmnt', '-n', file], { allowFailure: true });
  return result.exitCode === 0 && result.stdout.trim() !== '';
}

/**
 * Powers web-arm off: every process in its namespaces or cgroups is killed, the namespaces
 * are destroyed and runtime state (/run) is wiped. Persistent state (/etc, podman storage) stays.
 * Idempotent.
 */
export async function destroyWebArm(plan: LabPlan): Promise<void> {
  const w = plan.webArm;
  const netnsInode = nsInode(w.netnsPath);
  const mountNsInode = existsSync(w.mountNsFile) ? nsInode(w.mountNsFile) : undefined;
  await killProcesses({
    netnsInode,
    mountNsInode: mountNsInode !== undefined && (await isNamespaceMount(w.mountNsFile)) ? mountNsInode : undefined,
    // Containers have namespaces of their own; their root filesystem in web-arm's storage marks them.
    mountsContain: w.graphRoot,
  });
  await run(['umount', '-l', w.mountNsFile], { allowFailure: true });
  rmSync(w.mountNsFile, { force: true });
  await deleteNetns(w.netnsName);
  rmSync(w.runDir, { recursive: true, force: true });
}

/**
 * Kernel-level network config of web-arm's uplink and loopback (what NixOS's scripted networking
 * sets up: network-addresses-<if> adds the addresses, network-setup the default routes). Like
 * NixOS it does not wait for duplicate address detection: the units start while the GUA is still
 * tentative, and the boot waits for DAD at its end (waitForDad).
 */
export async function configureWebArmNetwork(plan: LabPlan): Promise<void> {
  const ns = plan.webArm.netnsName;
  const c = plan.config.webArm;
  const up = c.uplink;
  await succeed(ipIn(ns, 'link', 'set', 'dev', 'lo', 'up'));
  await sysctlIn(ns, {
    [`net.ipv6.conf.${up}.accept_ra`]: 0,
    [`net.ipv6.conf.${up}.autoconf`]: 0,
  });
  await succeed(ipIn(ns, '-6', 'addr', 'replace', `${c.ipv6.address}/${c.ipv6.prefixLength}`, 'dev', up));
  const ipv4 = plan.config.topology.ipv4;
  if (ipv4) await succeed(ipIn(ns, '-4', 'addr', 'replace', `${c.ipv4.address}/32`, 'dev', up));
  await succeed(ipIn(ns, '-6', 'route', 'replace', 'default', 'via', c.ipv6.gateway, 'dev', up));
  if (!ipv4) return; // the IPv6-only variant: no IPv4 address or route on the uplink
  await succeed(ipIn(ns, '-4', 'route', 'replace', c.ipv4.gateway, 'dev', up, 'scope', 'link'));
  await succeed(ipIn(ns, '-4', 'route', 'replace', 'default', 'via', c.ipv4.gateway, 'dev', up));
}

/** Waits until no address on the uplink is tentative (duplicate address detection is done). */
export async function waitForDad(plan: LabPlan): Promise<void> {
  const ns = plan.webArm.netnsName;
  const up = plan.config.webArm.uplink;
  await waitUntil(
    `DAD on web-arm ${up}`,
    async () => {
      const tentative = await succeed(ipIn(ns, '-6', 'addr', 'show', 'dev', up, 'tentative'));
      if (tentative.includes('dadfailed')) throw new LabBrokenError(`duplicate address detected on ${up}: ${tentative}`);
      return tentative === '' ? true : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 100 },
  );
}

export function webArmNetnsPath(plan: LabPlan): string {
  return netnsPath(plan.webArm.netnsName);
}
