/**
 * Idempotency as before = after: a story reads the same properties of the lab (egress, the
 * live containers, web-arm's host state, the design network, the firewall, the containers
 * running) before a redeploy or a reboot and after it, on the same lab; what changed is the
 * verdict, whatever each property's value is (a design whose egress fails before and after was
 * not changed by the reboot). This module compares readings and words the evidence. Pure.
 */

/** One property as read at one moment: canonical lines (their order does not count). */
export interface PropertyReading {
  property: string;
  /** Where it was read (a node name). */
  node: string;
  /** What was run to read it. */
  command: string;
  lines: string[];
}

export interface PropertyComparison {
  property: string;
  node: string;
  command: string;
  before: string[];
  after: string[];
  /** Lines only before (gone) and only after (new), each with its count where it repeats. */
  gone: string[];
  added: string[];
  same: boolean;
}

/** Lines of `a` not matched one for one in `b` (a multiset difference, order ignored). */
function missingFrom(a: readonly string[], b: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const line of b) left.set(line, (left.get(line) ?? 0) + 1);
  const missing: string[] = [];
  for (const line of a) {
    const n = left.get(line) ?? 0;
    if (n > 0) left.set(line, n - 1);
    else missing.push(line);
  }
  return missing;
}

/**
 * Pairs the readings by property (in the order they were read before) and compares each. A
 * property read only on one side is a change (its lines all gone, or all new).
 */
export function compareReadings(before: readonly PropertyReading[], after: readonly PropertyReading[]): PropertyComparison[] {
  const names = [...new Set([...before.map((r) => r.property), ...after.map((r) => r.property)])];
  return names.map((property) => {
    const b = before.find((r) => r.property === property);
    const a = after.find((r) => r.property === property);
    const beforeLines = b?.lines ?? [];
    const afterLines = a?.lines ?? [];
    const gone = missingFrom(beforeLines, afterLines);
    const added = missingFrom(afterLines, beforeLines);
    return {
      property,
      node: (b ?? a)!.node,
      command: (b ?? a)!.command,
      before: beforeLines,
      after: afterLines,
      gone,
      added,
      same: Boolean(a && b) && gone.length === 0 && added.length === 0,
    };
  });
}

/** A property's value in a few words: its lines joined, the rest counted. */
export function describeLines(lines: readonly string[], max = 4): string {
  if (lines.length === 0) return '(nothing)';
  const shown = lines.slice(0, max).join('; ');
  return lines.length > max ? `${shown} (+${lines.length - max} more, ${lines.length} in all)` : shown;
}

/** What the evidence says of one comparison: the value once when unchanged, before → after otherwise. */
export function describeComparison(c: PropertyComparison): { expected: string; seen: string } {
  const expected = `after as before: ${describeLines(c.before)}`;
  if (c.same) return { expected, seen: `unchanged: ${describeLines(c.after)}` };
  const parts = [c.gone.length ? `gone: ${describeLines(c.gone, 3)}` : '', c.added.length ? `new: ${describeLines(c.added, 3)}` : ''].filter(Boolean);
  return { expected, seen: `changed — ${parts.join(' | ') || 'read on one side only'}` };
}

/** The closing line of a before/after story: which properties changed, or that none did. */
export function summarizeComparisons(what: string, comparisons: readonly PropertyComparison[]): { ok: boolean; seen: string } {
  const changed = comparisons.filter((c) => !c.same);
  return changed.length === 0
    ? { ok: true, seen: `all ${comparisons.length} properties as before the ${what}` }
    : { ok: false, seen: `${changed.length} of ${comparisons.length} changed by the ${what}: ${changed.map((c) => c.property).join(', ')}` };
}

/** A command's outcome as one canonical line: what it printed when it succeeded, else its exit code (stderr differs in timings). */
export function outcomeLine(label: string, result: { exitCode: number; stdout: string }): string {
  return result.exitCode === 0 ? `${label}: ok, ${result.stdout.trim().split('\n')[0] ?? ''}`.trimEnd() : `${label}: fails (exit ${result.exitCode})`;
}

/** A container as the firewall names it: its ID (netavark's rule comments) and its addresses. */
export interface ContainerIdentity {
  name: string;
  id: string;
  addresses: readonly string[];
}

/**
 * Firewall rules with each container's ID and addresses replaced by its name: after a reboot
 * the same containers run with new IDs, and podman may give them each other's addresses; neither
 * changes a rule's meaning. Sorted (the order rules are added in follows the order of start).
 */
export function rulesByName(rules: readonly string[], containers: readonly ContainerIdentity[]): string[] {
  const tokens = containers.flatMap((c) => [
    ...(c.id !== '' ? [{ name: c.name, pattern: new RegExp(c.id, 'g') }] : []),
    ...c.addresses.filter((a) => a !== '').map((address) => ({ name: c.name, address })),
  ]);
  // IDs first, then addresses longest first, so 10.88.0.1 does not eat into 10.88.0.10.
  const ids = tokens.flatMap((t) => ('pattern' in t ? [t] : []));
  const addresses = tokens.flatMap((t) => ('address' in t ? [t] : [])).sort((a, b) => b.address.length - a.address.length);
  return rules
    .map((rule) => {
      const withIds = ids.reduce((text, { name, pattern }) => text.replace(pattern, `<${name}>`), rule);
      return addresses.reduce((text, { name, address }) => text.replace(wholeAddress(address), `<${name}>`), withIds);
    })
    .sort();
}

/**
 * The rules without empty user chains: a chain with no rule and nothing jumping to it does
 * nothing, and netavark leaves such chains behind when the last container publishing ports on a
 * network stops (a reboot clears them). Reads the lab's normalized lines: iptables-save's
 * "<family> <table> :NAME - [0:0]" declarations, and nft's "nft chain NAME {" directly followed
 * by "nft }".
 */
export function withoutEmptyChains(rules: readonly string[]): string[] {
  const declared = /^(ip[46]) (\S+) :(\S+) - \[\d+:\d+\]$/;
  const used = (family: string, table: string, chain: string) =>
    rules.some((r) => r.startsWith(`${family} ${table} `) && (r.includes(` -A ${chain} `) || r.endsWith(` -A ${chain}`) || new RegExp(` -[jg] ${chain}(?: |$)`).test(r)));
  const out: string[] = [];
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    const m = declared.exec(rule);
    if (m && !used(m[1]!, m[2]!, m[3]!)) continue;
    if (/^nft chain \S+ \{$/.test(rule) && rules[i + 1] === 'nft }') {
      i++;
      continue;
    }
    out.push(rule);
  }
  return out;
}

/**
 * The rules without nftables' view of the tables iptables-nft manages (`table ip|ip6
 * filter|nat|mangle|raw|security`): iptables-save already lists them, and nft prints one rule two
 * ways (`masquerade`, or `xt target "MASQUERADE"` when an older iptables or another tool added it),
 * which changed across a real reboot with no rule changed. Native nftables tables (netavark's,
 * networkd's io.systemd.nat, a NixOS nftables firewall) stay.
 */
export function withoutIptablesNftTables(rules: readonly string[]): string[] {
  const out: string[] = [];
  let depth = 0;
  for (const rule of rules) {
    if (depth > 0) {
      if (rule.endsWith('{')) depth++;
      else if (rule === 'nft }') depth--;
      continue;
    }
    if (/^nft table ip6? (?:filter|nat|mangle|raw|security) \{$/.test(rule)) {
      depth = 1;
      continue;
    }
    out.push(rule);
  }
  return out;
}

/** An address where it stands whole: not inside a longer one (an IPv4's ":port" may follow). */
function wholeAddress(address: string): RegExp {
  const escaped = address.replace(/[.]/g, '\\.');
  return address.includes(':') ? new RegExp(`(?<![0-9a-fA-F:])${escaped}(?![0-9a-fA-F:])`, 'g') : new RegExp(`(?<![0-9.])${escaped}(?![0-9.])`, 'g');
}
