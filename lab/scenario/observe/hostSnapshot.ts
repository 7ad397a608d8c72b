/**
 * A snapshot of web-arm's own network identity: uplink addresses, uplink routes, the default
 * routes, and the accept_ra/forwarding sysctls. Taken before and after apply, after the first
 * container starts and after reboot; compared by host-unchanged.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { succeedBatch } from '../../nodes/batch.ts';
import type { Machine } from '../../nodes/machine.ts';

export interface HostSnapshot {
  label: string;
  takenAt: string;
  addresses: string[];
  routes: string[];
  sysctls: Record<string, string>;
}

export function snapshotSysctlKeys(uplink: string): string[] {
  const keys: string[] = [];
  for (const dev of ['all', 'default', uplink]) {
    keys.push(`net.ipv6.conf.${dev}.accept_ra`, `net.ipv6.conf.${dev}.forwarding`, `net.ipv6.conf.${dev}.autoconf`, `net.ipv6.conf.${dev}.proxy_ndp`);
  }
  keys.push('net.ipv4.ip_forward');
  return keys;
}

/** web-arm's uplink state, read in one round trip (lab/nodes/batch.ts): addresses, routes, sysctls. */
export async function takeHostSnapshot(webArm: Machine, uplink: string, label: string): Promise<HostSnapshot> {
  const keys = snapshotSysctlKeys(uplink);
  const [addrJson = '', routeText = '', sysctlText = ''] = await succeedBatch(webArm, [
    `ip -j addr show dev ${uplink}`,
    `ip -6 route show dev ${uplink}; ip -4 route show dev ${uplink}; ip -6 route show default; ip -4 route show default; ip -6 neigh show proxy dev ${uplink} | sed 's/^/proxy /'`,
    `sysctl ${keys.join(' ')}`,
  ]);
  const addresses = (JSON.parse(addrJson) as Array<{ addr_info: Array<{ family: string; local: string; prefixlen: number; scope: string }> }>)
    .flatMap((l) => l.addr_info)
    .map((a) => `${a.local}/${a.prefixlen} scope ${a.scope}`)
    .sort();
  const routes = [...new Set(routeText.split('\n').map((l) => l.trim().replace(/\s+expires \S+/, '')).filter(Boolean))].sort();
  const sysctls: Record<string, string> = {};
  for (const line of sysctlText.split('\n')) {
    const m = /^(\S+)\s*=\s*(.*)$/.exec(line.trim());
    if (m) sysctls[m[1]!] = m[2]!;
  }
  return { label, takenAt: new Date().toISOString(), addresses, routes, sysctls };
}

export interface SnapshotDiff {
  field: string;
  before: string;
  after: string;
}

/** Pure: every difference between two snapshots, as field/before/after rows. */
export function diffSnapshots(a: HostSnapshot, b: HostSnapshot): SnapshotDiff[] {
  const diffs: SnapshotDiff[] = [];
  const setDiff = (field: string, x: string[], y: string[]) => {
    for (const v of x) if (!y.includes(v)) diffs.push({ field, before: v, after: '(gone)' });
    for (const v of y) if (!x.includes(v)) diffs.push({ field, before: '(absent)', after: v });
  };
  setDiff('address', a.addresses, b.addresses);
  setDiff('route', a.routes, b.routes);
  const keys = new Set([...Object.keys(a.sysctls), ...Object.keys(b.sysctls)]);
  for (const k of [...keys].sort()) {
    if (a.sysctls[k] !== b.sysctls[k]) diffs.push({ field: k, before: a.sysctls[k] ?? '(absent)', after: b.sysctls[k] ?? '(absent)' });
  }
  return diffs;
}

export function snapshotDir(stateDir: string): string {
  return join(stateDir, 'snapshots');
}

export function saveSnapshot(stateDir: string, snapshot: HostSnapshot): void {
  mkdirSync(snapshotDir(stateDir), { recursive: true });
  writeFileSync(join(snapshotDir(stateDir), `${snapshot.label}.json`), `${JSON.stringify(snapshot, null, 2)}\n`);
}

export function loadSnapshot(stateDir: string, label: string): HostSnapshot | undefined {
  const file = join(snapshotDir(stateDir), `${label}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as HostSnapshot) : undefined;
}
