/**
 * Before `lab up --host qemu --guest nixos` creates anything: is there a Nix that can build
 * (a usable store) and a nixpkgs to build web-arm's NixOS from? Debian's nix-bin alone has no
 * nixpkgs. Every missing piece is named with how to get it, in one HostError. The decision is
 * pure (nixProblems); gathering the facts runs nix.
 */
import { HostError } from '../../../errors.ts';
import { run } from '../../../exec.ts';

export interface NixFacts {
  /** `nix --version`, or undefined when nix is not there. */
  nix: string | undefined;
  /** Whether `nix store ping` answered, and what it said when not. */
  store: { ok: boolean; error?: string };
  /** V6LAB_NIXPKGS (a flake reference), if set. */
  nixpkgsRef: string | undefined;
  /** `nix-instantiate --find-file nixpkgs` (a channel or NIX_PATH), if found. */
  nixpkgsPath: string | undefined;
}

/** Where web-arm's NixOS comes from: a flake reference for the generated flake's nixpkgs input. */
export interface NixpkgsSource {
  flakeRef: string;
  from: 'V6LAB_NIXPKGS' | 'NIX_PATH';
}

const NIX_FEATURES = ['--extra-experimental-features', 'nix-command flakes'];

export const nixArgv = {
  version: () => ['nix', '--version'],
  storePing: () => ['nix', ...NIX_FEATURES, 'store', 'ping'],
  findNixpkgs: () => ['nix-instantiate', '--find-file', 'nixpkgs'],
};

export function nixProblems(f: NixFacts): Array<{ missing: string; fix: string }> {
  const problems: Array<{ missing: string; fix: string }> = [];
  if (!f.nix) {
    problems.push({ missing: 'nix (not on PATH)', fix: 'install Nix (https://nixos.org/download; on NixOS it is there), or apt-get install nix-bin plus a nixpkgs (below)' });
  } else if (!f.store.ok) {
    problems.push({ missing: `a usable Nix store (nix store ping: ${f.store.error ?? 'failed'})`, fix: 'start the Nix daemon (systemctl start nix-daemon) or run as a user who may build' });
  }
  if (f.nix && !f.nixpkgsRef && !f.nixpkgsPath) {
    problems.push({
      missing: 'nixpkgs: V6LAB_NIXPKGS is not set and `nix-instantiate --find-file nixpkgs` finds none (Debian\'s nix-bin comes without one)',
      fix: 'export V6LAB_NIXPKGS=github:NixOS/nixpkgs/nixos-25.11 (a flake reference; fetched once; the release web-arm runs, as flake.nix pins it), or add a channel: nix-channel --add https://nixos.org/channels/nixos-25.11 nixpkgs && nix-channel --update',
    });
  }
  return problems;
}

export function checkNix(f: NixFacts): NixpkgsSource {
  const problems = nixProblems(f);
  if (problems.length) {
    throw new HostError(
      `A NixOS guest cannot be built on this machine (nothing was created):\n${problems.map((p) => `- missing ${p.missing}. Fix: ${p.fix}`).join('\n')}`,
    );
  }
  return f.nixpkgsRef ? { flakeRef: f.nixpkgsRef, from: 'V6LAB_NIXPKGS' } : { flakeRef: `path:${f.nixpkgsPath!}`, from: 'NIX_PATH' };
}

export async function gatherNixFacts(env: NodeJS.ProcessEnv = process.env): Promise<NixFacts> {
  const attempt = async (argv: string[]) => {
    try {
      return await run(argv, { allowFailure: true, timeoutMs: 60_000 });
    } catch {
      return undefined;
    }
  };
  const version = await attempt(nixArgv.version());
  const nix = version?.exitCode === 0 ? version.stdout.trim() : undefined;
  const ping = nix ? await attempt(nixArgv.storePing()) : undefined;
  const found = nix ? await attempt(nixArgv.findNixpkgs()) : undefined;
  return {
    nix,
    store: ping?.exitCode === 0 ? { ok: true } : { ok: false, error: (ping?.stderr ?? '').trim().split('\n').at(-1) || undefined },
    nixpkgsRef: env.V6LAB_NIXPKGS || undefined,
    nixpkgsPath: found?.exitCode === 0 ? found.stdout.trim() || undefined : undefined,
  };
}
