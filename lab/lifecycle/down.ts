/**
 * `lab down`: removes everything the lab created, found by its marks (names, labels, cgroup,
 * paths), not from memory, so it also works after a crash. Runs in reverse order, keeps going
 * past failures and reports them together. Running it twice is a no-op.
 */
import Docker from 'dockerode';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TeardownError } from '../errors.ts';
import { run } from '../exec.ts';
import { podmanEngineCli, ENGINE_PID_FILE } from '../engine/engine.ts';
import { findProcesses, isAlive, killProcesses } from '../host/processes.ts';
import { unmountUnder } from '../host/mounts.ts';
import { deleteNetns, listNetns } from '../links/netns.ts';
import { deleteLink, listRootLinks } from '../links/veth.ts';
import { removeLabContainers } from '../nodes/hostContainers.ts';
import { waitUntil } from '../wait.ts';
import { allTiers } from '../tiers/registry.ts';
import type { Progress } from '../progress.ts';
import { readState } from '../state/store.ts';
import type { LabConfig } from '../topology/config.ts';
import { LABEL_LAB, planLab } from '../topology/plan.ts';

export interface DownReport {
  removed: string[];
}

export async function labDown(config: LabConfig, progress: Progress): Promise<DownReport> {
  const state = readState(config.lab.name);
  // The config the lab was made with knows its state dir; fall back to the one given.
  const plan = planLab(state?.config ?? config);
  const removed: string[] = [];
  const failures: Error[] = [];
  const attempt = async (title: string, fn: () => Promise<void>) => {
    try {
      await progress.step(title, fn);
    } catch (error) {
      failures.push(error instanceof Error ? error : new Error(String(error)));
    }
  };

  // Forks a test run left up (a crash, a second Ctrl-C): labs of their own, taken down first.
  for (const fork of state?.forks ?? []) {
    await attempt(`fork ${fork} of the lab`, async () => {
      const report = await labDown({ ...config, lab: { ...config.lab, name: fork, stateDir: '' } }, progress);
      removed.push(...report.removed.map((r) => `${fork}: ${r}`));
    });
  }

  // Whatever tier the lab ran on: each tier removes what it may have made, found by its marks.
  for (const tier of allTiers()) {
    await attempt(`web-arm (${tier.name} tier), by its marks`, async () => {
      removed.push(...(await tier.destroy(plan, state)));
    });
  }

  let containerIds: string[] = [];
  await attempt('router and internet containers', async () => {
    const gone = await removeContainers(plan.name, plan.runtimeDir, state?.engine?.socketPath);
    containerIds = gone.ids;
    removed.push(...gone.names);
  });

  await attempt("the removed containers' conmon and cleanup processes", async () => {
    const killed = await settleContainerProcesses(containerIds);
    if (killed) removed.push(`${killed} container process(es) that had not exited`);
  });

  await attempt('engine service started by the lab', async () => {
    const pidFile = join(plan.runtimeDir, ENGINE_PID_FILE);
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }
    const n = await killProcesses({ cmdlineContains: plan.engineSocket });
    if (n) removed.push(`${n} engine process(es)`);
  });

  await attempt('network namespaces', async () => {
    for (const name of listNetns(plan.netnsPrefix)) {
      await deleteNetns(name);
      removed.push(`netns ${name}`);
    }
  });

  await attempt('links left in the root namespace', async () => {
    for (const link of await listRootLinks(plan.linkPrefix)) {
      await deleteLink(link);
      removed.push(`link ${link}`);
    }
  });

  await attempt('mounts and runtime directory', async () => {
    const points = await unmountUnder(plan.runtimeDir);
    removed.push(...points.map((p) => `mount ${p}`));
    rmSync(plan.runtimeDir, { recursive: true, force: true });
  });

  await attempt("web-arm's persistent state (storage, /etc)", async () => {
    if (existsSync(plan.webArm.persistentDir)) {
      await unmountUnder(plan.webArm.persistentDir);
      rmSync(plan.webArm.persistentDir, { recursive: true, force: true });
      removed.push(plan.webArm.persistentDir);
    }
    rmSync(join(plan.stateDir, 'snapshots'), { recursive: true, force: true });
  });

  if (failures.length) throw new TeardownError(failures);
  return { removed };
}

/** How long conmon and podman's `container cleanup` of a removed container may take to exit by themselves (containers.conf exit_command_delay = 10 s). */
const CONTAINER_PROCESS_EXIT_MS = 20_000;

/**
 * A removed container's conmon and podman's `container cleanup` (its exit command) go on for
 * seconds after the removal; down returns only once they are gone (found by the container's
 * ID in their command line), killing what is still there after the bound. Returns how many it killed.
 */
async function settleContainerProcesses(ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const alive = () => ids.flatMap((id) => findProcesses({ cmdlineContains: id })).filter(isAlive);
  const exited = await waitUntil("the removed containers' conmon and cleanup to exit", async () => (alive().length === 0 ? true : undefined), {
    timeoutMs: CONTAINER_PROCESS_EXIT_MS,
    intervalMs: 200,
  }).catch(() => false);
  if (exited) return 0;
  let killed = 0;
  for (const id of ids) killed += await killProcesses({ cmdlineContains: id });
  return killed;
}

async function removeContainers(lab: string, runtimeDir: string, socketPath: string | undefined): Promise<{ names: string[]; ids: string[] }> {
  const sockets = [socketPath, join(runtimeDir, 'engine.sock'), '/var/run/docker.sock'].filter((s): s is string => Boolean(s));
  for (const socket of new Set(sockets)) {
    if (!existsSync(socket)) continue;
    const docker = new Docker({ socketPath: socket });
    try {
      await docker.ping();
    } catch {
      continue;
    }
    return removeLabContainers(docker, lab);
  }
  // No engine answers (e.g. the lab's podman service was killed): use podman's CLI on the
  // same lab-private store.
  const cli = podmanEngineCli();
  if (!cli) return { names: [], ids: [] };
  const list = await run([...cli.argv, 'ps', '-a', '-q', '--filter', `label=${LABEL_LAB}=${lab}`], { env: cli.env, allowFailure: true });
  const ids = list.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  if (ids.length) await run([...cli.argv, 'rm', '-f', '-t', '0', ...ids], { env: cli.env, allowFailure: true, timeoutMs: 60_000 });
  return { names: ids.map((id) => `container ${id.slice(0, 12)}`), ids };
}
