/**
 * The facts of the machine a comparison cell ran on, for its cell file: architecture, cores,
 * memory, kernel, OS, Node, whether /dev/kvm is there, and the CI runner's identity where
 * GitHub Actions sets it. Effects: reads the OS and the environment.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, hostname, release, totalmem } from 'node:os';
import { nativeArch } from '../topology/config.ts';
import type { MachineFacts } from './cellFile.ts';

function osName(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function machineFacts(env: NodeJS.ProcessEnv = process.env): MachineFacts {
  const ci = {
    ...(env.RUNNER_NAME ? { runner: env.RUNNER_NAME } : {}),
    ...(env.RUNNER_OS ? { runnerOs: env.RUNNER_OS } : {}),
    ...(env.RUNNER_ARCH ? { runnerArch: env.RUNNER_ARCH } : {}),
    ...(env.GITHUB_REPOSITORY ? { repository: env.GITHUB_REPOSITORY } : {}),
    ...(env.GITHUB_RUN_ID ? { runId: env.GITHUB_RUN_ID } : {}),
    ...(env.GITHUB_SHA ? { sha: env.GITHUB_SHA } : {}),
  };
  return {
    hostname: hostname(),
    arch: nativeArch(),
    cores: availableParallelism(),
    memoryMiB: Math.round(totalmem() / 2 ** 20),
    kernel: release(),
    os: osName(),
    node: process.version,
    devKvm: existsSync('/dev/kvm'),
    ...(Object.keys(ci).length ? { ci } : {}),
  };
}
