/**
 * The guest's boot as systemd saw it, read from `systemd-analyze` (time), `systemd-analyze
 * blame` and `systemd-analyze critical-chain` output. Pure.
 */

export interface BootProfile {
  /** Firmware-to-kernel handover is not seen under direct kernel boot: kernel, initrd, userspace. */
  kernelMs?: number;
  initrdMs?: number;
  userspaceMs?: number;
  totalMs?: number;
  /** "multi-user.target reached after … in userspace". */
  multiUserMs?: number;
  /** The slowest units (blame), slowest first. */
  blame: Array<{ unit: string; ms: number }>;
  /** critical-chain's lines for multi-user.target, as printed (time-critical units with @start +duration). */
  criticalChain: string[];
}

/** "1min 2.345s", "345ms", "2.001s", "1h 2min 3s", "800us" → ms; undefined when unreadable. */
export function parseSystemdSpan(text: string): number | undefined {
  const parts = text.trim().split(/\s+/);
  if (parts.length === 0 || parts[0] === '') return undefined;
  const unit: Record<string, number> = { h: 3_600_000, min: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001 };
  let ms = 0;
  for (const part of parts) {
    const m = /^(\d+(?:\.\d+)?)(h|min|s|ms|us|µs)$/.exec(part);
    if (!m) return undefined;
    ms += Number(m[1]) * unit[m[2]!]!;
  }
  return Math.round(ms);
}

/** `systemd-analyze` (time): "Startup finished in 1.2s (kernel) + 3.4s (initrd) + 40.1s (userspace) = 44.7s". */
export function parseAnalyzeTime(text: string): Pick<BootProfile, 'kernelMs' | 'initrdMs' | 'userspaceMs' | 'totalMs' | 'multiUserMs'> {
  const out: Pick<BootProfile, 'kernelMs' | 'initrdMs' | 'userspaceMs' | 'totalMs' | 'multiUserMs'> = {};
  const line = text.split('\n').find((l) => l.startsWith('Startup finished in '));
  if (line) {
    const body = line.slice('Startup finished in '.length);
    const [sum, total] = body.split(' = ');
    for (const piece of (sum ?? '').split(' + ')) {
      const m = /^(.*) \((kernel|initrd|userspace)\)$/.exec(piece.trim());
      if (!m) continue;
      const ms = parseSystemdSpan(m[1]!);
      if (m[2] === 'kernel') out.kernelMs = ms;
      else if (m[2] === 'initrd') out.initrdMs = ms;
      else out.userspaceMs = ms;
    }
    if (total) out.totalMs = parseSystemdSpan(total.trim());
  }
  const reached = /multi-user\.target reached after (.+) in userspace/.exec(text);
  if (reached) out.multiUserMs = parseSystemdSpan(reached[1]!);
  return out;
}

/** `systemd-analyze blame`: "  12.345s unit.service" per line, slowest first; the first `top`. */
export function parseBlame(text: string, top = 10): BootProfile['blame'] {
  const rows: BootProfile['blame'] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*((?:\d+(?:\.\d+)?(?:h|min|s|ms|us|µs)\s)+)\s*(\S+)\s*$/.exec(line);
    if (!m) continue;
    const ms = parseSystemdSpan(m[1]!);
    if (ms !== undefined) rows.push({ unit: m[2]!, ms });
  }
  return rows.sort((a, b) => b.ms - a.ms).slice(0, top);
}

/** critical-chain's unit lines (the header and legend dropped), at most `top`. */
export function parseCriticalChain(text: string, top = 15): string[] {
  return text
    .split('\n')
    .filter((l) => /[@+]\d/.test(l) || /\.target\b|\.service\b|\.mount\b|\.device\b|\.socket\b/.test(l))
    .filter((l) => !/^The time|^The time when/.test(l.trim()))
    .map((l) => l.replace(/\s+$/, ''))
    .slice(0, top);
}

/** critical-chain's first line "multi-user.target @4min 47.056s": when the target was reached in userspace, ms. */
export function parseChainReached(text: string, target = 'multi-user.target'): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${target} @`));
  return line ? parseSystemdSpan(line.slice(target.length + 2)) : undefined;
}
