/**
 * NixOS's firewall scripts as the lab renders them (lab/designs/firewall.ts), run for real in a
 * network namespace of their own (`unshare -n`: nothing of the machine's is touched): start is
 * idempotent, reload puts back exactly what start made (plus NixOS's nixos-drop chain, unhooked), stop
 * unhooks nixos-fw and the rpfilter chain and keeps the chains, a start after it restores the
 * whole. Needs root.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderNixosFirewall } from '../../lab/designs/firewall.ts';
import { defaultConfig } from '../../lab/topology/config.ts';

const etc = mkdtempSync(join(tmpdir(), 'v6lab-nixos-fw-'));
const policy = { ...defaultConfig().webArm.firewall, allowDnsOnPodmanBridges: true };
const fw = renderNixosFirewall(policy, etc);
for (const [rel, text] of Object.entries(fw.files)) {
  const file = join(etc, rel);
  spawnSync('mkdir', ['-p', join(file, '..')]);
  writeFileSync(file, text, { mode: 0o755 });
}
const script = (name: 'start' | 'reload' | 'stop') => join(etc, 'firewall', `firewall-${name}.sh`);
const SAVE = '{ iptables-save; echo ----; ip6tables-save; }';

/** Runs the steps in one fresh network namespace; returns each step's rule dump (counters left out). */
function run(steps: string[]): string[] {
  const program = steps.map((s) => `${s}\necho "=== step"\n${SAVE} | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//'`).join('\n');
  const out = spawnSync('unshare', ['-n', 'sh', '-ec', program], { encoding: 'utf8' });
  expect(out.status, out.stderr).toBe(0);
  return out.stdout.split('=== step\n').slice(1);
}

afterAll(() => rmSync(etc, { recursive: true, force: true }));

describe.runIf(process.getuid?.() === 0)("NixOS's firewall scripts in a network namespace of their own", () => {
  const [first, again, reloaded, stopped, restarted] = run([script('start'), script('start'), script('reload'), script('stop'), script('start')]);

  it('start builds nixos-fw and hooks it into INPUT, rpfilter into mangle PREROUTING', () => {
    expect(first).toContain('-A INPUT -j nixos-fw');
    expect(first).toContain('-A PREROUTING -j nixos-fw-rpfilter');
    expect(first).toContain('-A nixos-fw-log-refuse -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j LOG --log-prefix "refused connection: " --log-level 6');
    expect(first).toContain('-A nixos-fw -i podman+ -p udp -m udp --dport 53 -j nixos-fw-accept');
    expect(first!.split('\n').filter((l) => l === '-A INPUT -j nixos-fw')).toHaveLength(2); // IPv4 and IPv6
  });

  it('start again gives the same rules (idempotent)', () => expect(again).toBe(first));

  it('reload gives the same rules; its drop chain stays, unhooked (as NixOS leaves it)', () => {
    const withoutDrop = (dump: string) => dump.split('\n').filter((l) => !/^(:nixos-drop |-A nixos-drop )/.test(l)).join('\n');
    expect(withoutDrop(reloaded!)).toBe(first);
    expect(reloaded).toContain('-A nixos-drop -j DROP');
    expect(reloaded).not.toContain('-A INPUT -j nixos-drop');
  });

  it('stop unhooks nixos-fw and the rpfilter chain, the chains stay', () => {
    expect(stopped).not.toContain('-A INPUT -j nixos-fw');
    expect(stopped).not.toContain('-A PREROUTING -j nixos-fw-rpfilter');
    expect(stopped).toContain(':nixos-fw - ');
  });

  it('a start after the stop restores the whole', () => expect(restarted).toBe(reloaded));
});
