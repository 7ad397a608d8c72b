/**
 * Files into and out of a guest through one shell command each (the agent's exec with stdin):
 * pure renderers of the scripts and a parser of what they print, so a whole configuration
 * moves in one round trip.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../../errors.ts';

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function assertAbsolute(path: string): void {
  if (!path.startsWith('/') || path.includes('\n') || path.includes("'") || path.split('/').includes('..')) {
    throw new ConfigError('guest file path', path, 'must be an absolute path without quotes, newlines or ..', 'use a plain absolute path such as /etc/sysctl.d/50-web-arm.conf');
  }
}

/**
 * A script (fed to `sh -s` on stdin) that writes each file (replacing a symlink), creating
 * its directory, with mode 0644 (0755 for *.sh). Content travels base64-encoded.
 */
export function renderInstallScript(files: Record<string, string>): string {
  const lines = ['set -eu'];
  for (const path of Object.keys(files).sort()) {
    assertAbsolute(path);
    const mode = path.endsWith('.sh') ? '0755' : '0644';
    const dir = path.slice(0, path.lastIndexOf('/')) || '/';
    lines.push(
      `mkdir -p '${dir}'`,
      `rm -f '${path}.v6lab-new'`,
      `base64 -d > '${path}.v6lab-new' <<'V6LAB_EOF'`,
      ...(Buffer.from(files[path]!, 'utf8').toString('base64').match(/.{1,76}/g) ?? []),
      'V6LAB_EOF',
      `chmod ${mode} '${path}.v6lab-new'`,
      `rm -f '${path}'`,
      `mv '${path}.v6lab-new' '${path}'`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** A script that removes files (already gone is fine). */
export function renderRemoveScript(paths: readonly string[]): string {
  for (const p of paths) assertAbsolute(p);
  return paths.length ? `rm -f ${paths.map((p) => `'${p}'`).join(' ')}\n` : 'true\n';
}

/** A script printing the sha256 of each path (or "-" when it does not exist), one "hash path" per line. */
export function renderHashScript(paths: readonly string[]): string {
  for (const p of paths) assertAbsolute(p);
  return `${paths.map((p) => `if [ -f '${p}' ]; then sha256sum '${p}'; else echo "- ${p}"; fi`).join('\n')}\n`;
}

export function parseHashes(output: string): Map<string, string> {
  const hashes = new Map<string, string>();
  for (const line of output.split('\n')) {
    const m = /^(\S+)\s+\*?(\/.*)$/.exec(line.trim());
    if (m) hashes.set(m[2]!, m[1]!);
  }
  return hashes;
}

/** The paths whose content differs from what the guest has (missing counts as different). */
export function changedFiles(files: Record<string, string>, guestHashes: ReadonlyMap<string, string>): string[] {
  return Object.keys(files)
    .filter((p) => guestHashes.get(p) !== sha256(files[p]!))
    .sort();
}

/** Where the guest keeps the list of the files the lab wrote (its next switch removes those it no longer has). */
export const FILE_MANIFEST = '/var/lib/v6lab/etc-files';

/** The lab's files of the previous switch (the manifest's lines) that the next one no longer has, as switch-to-configuration removes /etc entries. */
export function staleFiles(manifest: string, next: Record<string, string>): string[] {
  return manifest
    .split('\n')
    .map((l) => l.trim())
    .filter((p) => p.startsWith('/') && !(p in next))
    .sort();
}

/** The manifest for these files (one absolute path a line). */
export function renderManifest(files: Record<string, string>): string {
  const paths = Object.keys(files).sort();
  for (const p of paths) assertAbsolute(p);
  return paths.length ? `${paths.join('\n')}\n` : '';
}

const DUMP_MARK = '=== v6lab-unit ';

/** A script printing every unit file in dir that starts with the generated header, each after a marker line. */
export function renderUnitDumpScript(dir: string, header: string): string {
  assertAbsolute(dir);
  return [
    `for f in '${dir}'/*; do`,
    '  [ -f "$f" ] || continue',
    `  head -n 1 "$f" | grep -qxF '${header}' || continue`,
    `  printf '%s%s\\n' '${DUMP_MARK}' "$(basename "$f")"`,
    '  cat "$f"',
    'done',
    '',
  ].join('\n');
}

export function parseUnitDump(output: string): Map<string, string> {
  const units = new Map<string, string>();
  let name: string | undefined;
  let lines: string[] = [];
  const flush = () => {
    if (name !== undefined) units.set(name, `${lines.join('\n')}\n`.replace(/\n+$/, '\n'));
  };
  for (const line of output.split('\n')) {
    if (line.startsWith(DUMP_MARK)) {
      flush();
      name = line.slice(DUMP_MARK.length).trim();
      lines = [];
    } else if (name !== undefined) lines.push(line);
  }
  flush();
  return units;
}
