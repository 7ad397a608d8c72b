/**
 * `lab snapshot`: the snapshots a tier keeps on this machine (the qemu tier's clean web-arm),
 * listed, or removed by key or all at once. Asks the tiers' SnapshotAbility, so a tier that
 * gains snapshots shows here without a change. Removing one that is already gone is success.
 */
import { UsageError } from '../errors.ts';
import { allTiers, getTier } from '../tiers/registry.ts';
import type { SnapshotSummary, Tier } from '../tiers/tier.ts';
import { parseCommon } from './options.ts';
import { OPT } from './usage.ts';
import type { Verb } from './verb.ts';

function snapshotTiers(hostFlag: unknown): Tier[] {
  const withSnapshots = allTiers().filter((t) => t.snapshots);
  if (typeof hostFlag !== 'string') return withSnapshots;
  const tier = getTier(hostFlag);
  if (!tier.snapshots) {
    throw new UsageError(`the ${tier.name} tier keeps no snapshots. Fix: --host ${withSnapshots.map((t) => t.name).join(' or --host ')}, or leave --host out`);
  }
  return [tier];
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 1024 ** 2)} MiB`;
}

function renderList(rows: Array<SnapshotSummary & { tier: string }>): string {
  if (rows.length === 0) return 'no snapshots on this machine (a qemu lab up saves its clean web-arm after a cold boot)\n';
  return rows
    .map((r) => `${r.tier} ${r.key}  ${r.savedAt}  by lab ${r.savedBy}  ${mib(r.bytes)}\n  ${r.what}; ${Object.entries(r.facts).map(([k, v]) => `${k} ${v}`).join(', ')}\n`)
    .join('');
}

export const snapshotVerb: Verb = {
  summary: 'the snapshots a tier keeps on this machine (qemu: the clean web-arm): list, or remove',
  usage: 'pnpm lab snapshot [list | rm KEY… | rm --all] [--host qemu] [--json]',
  options: [['list', 'every snapshot: tier, key, when and by which lab it was saved, size (the default)'], ['rm KEY…', 'remove these snapshots (one already gone is fine)'], ['--all', 'with rm: remove every snapshot of the tier(s)'], ['--host TIER', 'only this tier (default: every tier with snapshots)'], OPT.json],
  example: 'pnpm lab snapshot rm --all --host qemu',
  async run(args) {
    const options = parseCommon(args, { all: { type: 'boolean' } });
    const [action = 'list', ...keys] = options.positionals;
    const tiers = snapshotTiers(options.flags.host);
    const held = tiers.flatMap((tier) => tier.snapshots!.listSnapshots().map((summary) => ({ tier, summary })));
    const rows = held.map(({ tier, summary }) => ({ tier: tier.name, ...summary }));
    if (action === 'list') {
      if (keys.length > 0 || options.flags.all) throw new UsageError(`usage: ${snapshotVerb.usage}`);
      process.stdout.write(options.json ? `${JSON.stringify({ snapshots: rows }, null, 2)}\n` : renderList(rows));
      return 0;
    }
    if (action !== 'rm') throw new UsageError(`unknown action "${action}". Fix: pnpm lab snapshot list, or pnpm lab snapshot rm KEY…`);
    if (Boolean(options.flags.all) === (keys.length > 0)) throw new UsageError('rm takes snapshot keys or --all (one of them). Fix: pnpm lab snapshot list shows the keys');
    const bad = keys.filter((k) => !/^[0-9a-f]{16}$/.test(k));
    if (bad.length > 0) throw new UsageError(`not a snapshot key: ${bad.join(', ')} (16 hex digits). Fix: pnpm lab snapshot list shows the keys`);
    const targets = options.flags.all ? held.map(({ tier, summary }) => ({ tier, key: summary.key })) : keys.flatMap((key) => tiers.map((tier) => ({ tier, key })));
    const removed = [...new Set(targets.filter(({ tier, key }) => tier.snapshots!.removeSnapshot(key)).map(({ key }) => key))];
    const absent = options.flags.all ? [] : keys.filter((k) => !removed.includes(k));
    if (options.json) process.stdout.write(`${JSON.stringify({ removed, alreadyGone: absent }, null, 2)}\n`);
    else {
      process.stdout.write(removed.length > 0 ? `removed ${removed.join(', ')}\n` : 'nothing to remove\n');
      if (absent.length > 0) process.stderr.write(`already gone (fine): ${absent.join(', ')}\n`);
    }
    return 0;
  },
};
