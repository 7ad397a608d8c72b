/**
 * The Docker-API engine behind testcontainers/dockerode for the lab's host-side containers
 * (router, internet hosts). Found by trying strategies in order; the winner is named:
 *   1. DOCKER_HOST (a unix socket) that answers
 *   2. Docker's socket /var/run/docker.sock that answers
 *   3. podman's API service, started by the lab with lab-private storage and config
 */
import Docker from 'dockerode';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostError } from '../errors.ts';
import { run, spawnDaemon } from '../exec.ts';
import { cacheDir } from '../images/cache.ts';
import { readHostFacts, renderContainersConf, renderStorageConf, settingsFor, type PodmanHostSettings } from '../podman/hostSettings.ts';
import type { Progress } from '../progress.ts';
import { waitUntil } from '../wait.ts';

export interface Engine {
  /** Which strategy won, e.g. "podman API service started by the lab (podman 4.3.1)". */
  description: string;
  kind: 'docker' | 'podman-lab';
  socketPath: string;
  docker: Docker;
  /** pid of the service the lab started (podman-lab only). */
  servicePid?: number;
}

export interface EnginePaths {
  /** The lab's socket for an engine it starts itself. */
  socketPath: string;
  runtimeDir: string;
}

const ENGINE_PIDFILE = 'engine.pid';

async function answers(socketPath: string): Promise<Docker | undefined> {
  if (!existsSync(socketPath)) return undefined;
  const docker = new Docker({ socketPath });
  try {
    await withTimeout(docker.ping(), 3000);
    return docker;
  } catch {
    return undefined;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

function socketFromDockerHost(): string | undefined {
  const host = process.env.DOCKER_HOST;
  if (!host) return undefined;
  if (!host.startsWith('unix://')) return undefined;
  return host.slice('unix://'.length);
}

/** Shared storage for lab-started podman engines: images stay cached across labs. */
export function podmanEngineStore() {
  const root = join(cacheDir(), 'engine');
  return {
    root,
    graphRoot: join(root, 'storage'),
    networkConfigDir: join(root, 'networks'),
    runRoot: '/run/v6lab/.engine/run',
    tmpDir: '/run/v6lab/.engine/libpod',
  };
}

/** Finds an engine that answers, or starts podman's API service for this lab. */
export async function ensureEngine(paths: EnginePaths, progress: Progress): Promise<Engine> {
  const fromEnv = socketFromDockerHost();
  if (fromEnv) {
    const docker = await answers(fromEnv);
    if (docker) return { description: `DOCKER_HOST (${fromEnv})`, kind: 'docker', socketPath: fromEnv, docker };
  }
  const own = await answers(paths.socketPath);
  if (own) {
    return {
      description: `podman API service started by the lab (${paths.socketPath})`,
      kind: 'podman-lab',
      socketPath: paths.socketPath,
      docker: own,
      servicePid: readPid(paths.runtimeDir),
    };
  }
  const dockerSock = '/var/run/docker.sock';
  if (process.env.V6LAB_ENGINE !== 'podman') {
    const docker = await answers(dockerSock);
    if (docker) return { description: `Docker's socket (${dockerSock})`, kind: 'docker', socketPath: dockerSock, docker };
  }
  return progress.step('start podman API service (no Docker engine answered)', () => startPodmanService(paths, progress));
}

function readPid(runtimeDir: string): number | undefined {
  try {
    return Number(readFileSync(join(runtimeDir, ENGINE_PIDFILE), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

async function podmanVersion(): Promise<string> {
  const result = await run(['podman', '--version'], { allowFailure: true, timeoutMs: 10_000 }).catch(() => undefined);
  if (!result || result.exitCode !== 0) {
    throw new HostError('No Docker-API engine answers and podman is not installed. Fix: run `pnpm lab up` as root (it installs podman), or start Docker.');
  }
  return result.stdout.trim().replace(/^podman version /, '');
}

async function startPodmanService(paths: EnginePaths, progress: Progress): Promise<Engine> {
  const version = await podmanVersion();
  const confDir = join(paths.runtimeDir, 'engine');
  mkdirSync(confDir, { recursive: true });
  const settings = settingsFor(readHostFacts());
  for (const reason of settings.reasons) progress.note(`podman: ${reason}`);
  const cli = writeEngineConf(settings);
  rmSync(paths.socketPath, { force: true });
  // A private mount namespace keeps podman's storage mounts off the machine's mount table;
  // they vanish with the service.
  const pid = spawnDaemon(
    ['unshare', '--mount', '--propagation', 'private', '--', 'podman', 'system', 'service', '--time=0', `unix://${paths.socketPath}`],
    {
      logFile: join(confDir, 'service.log'),
      env: cli.env,
    },
  );
  writeFileSync(join(paths.runtimeDir, ENGINE_PIDFILE), `${pid}\n`);
  const docker = await waitUntil(`podman API service on ${paths.socketPath}`, () => answers(paths.socketPath), {
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  return {
    description: `podman API service started by the lab (podman ${version}, lab-private storage)`,
    kind: 'podman-lab',
    socketPath: paths.socketPath,
    docker,
    servicePid: pid,
  };
}

/**
 * The config every podman on the lab-started engine's store uses, the API service and the CLI
 * that cleans up without it: one file beside the store, so both take the same lock manager
 * (containers.conf lock_type; a container's lock is a number that means something only to the
 * manager that gave it). Written atomically, the same for every lab on this machine.
 */
function writeEngineConf(settings: PodmanHostSettings = settingsFor(readHostFacts())): EngineCli {
  const store = podmanEngineStore();
  const cli = engineCliOf(store);
  for (const dir of [join(store.root, 'conf'), store.graphRoot, store.networkConfigDir, store.runRoot, store.tmpDir]) mkdirSync(dir, { recursive: true });
  writeAtomically(cli.env.CONTAINERS_CONF, renderContainersConf(settings, { tmpDir: store.tmpDir, networkConfigDir: store.networkConfigDir }));
  writeAtomically(cli.env.CONTAINERS_STORAGE_CONF, renderStorageConf(store.graphRoot, store.runRoot));
  return cli;
}

interface EngineCli {
  argv: string[];
  env: { CONTAINERS_CONF: string; CONTAINERS_STORAGE_CONF: string };
}

function engineCliOf(store: ReturnType<typeof podmanEngineStore>): EngineCli {
  const confDir = join(store.root, 'conf');
  return {
    argv: ['unshare', '--mount', '--propagation', 'private', '--', 'podman'],
    env: { CONTAINERS_CONF: join(confDir, 'containers.conf'), CONTAINERS_STORAGE_CONF: join(confDir, 'storage.conf') },
  };
}

function writeAtomically(path: string, text: string): void {
  const partial = `${path}.partial-${process.pid}`;
  writeFileSync(partial, text);
  renameSync(partial, path);
}

/**
 * podman's CLI on the lab-started engine's store (cleanup without the service); undefined when no
 * lab made that store. The config the service wrote is read as it is; written only when missing
 * (a store made before the config lived beside it).
 */
export function podmanEngineCli(): EngineCli | undefined {
  const store = podmanEngineStore();
  if (!existsSync(store.graphRoot)) return undefined;
  const cli = engineCliOf(store);
  return existsSync(cli.env.CONTAINERS_CONF) && existsSync(cli.env.CONTAINERS_STORAGE_CONF) ? cli : writeEngineConf();
}

export const ENGINE_PID_FILE = ENGINE_PIDFILE;
