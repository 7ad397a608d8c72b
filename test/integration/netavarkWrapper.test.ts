/**
 * The netns tier's netavark wrapper as the lab renders it (lab/tiers/netns/netavarkWrapper.ts),
 * run for real against iptables and ip6tables in a network namespace of its own (`unshare -n`:
 * nothing of the machine's is touched), around a stand-in for netavark 1.4 that adds and removes
 * its `NETAVARK_FORWARD -s <subnet> -j ACCEPT` on setups and complete teardowns as 1.4 does. It
 * must keep netavark 1.14's DNS accepts in NETAVARK_INPUT in step, pass netavark's input, answer
 * and exit code on, and refuse to run in the namespace it was told is the machine's. Needs root.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderNetavarkWrapper } from '../../lab/tiers/netns/netavarkWrapper.ts';

const dir = mkdtempSync(join(tmpdir(), 'v6lab-netavark-wrapper-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// netavark 1.4 as far as the wrapper can tell: its forward accept per subnet (FAKE_SUBNETS) on a
// setup, gone on a complete teardown (FAKE_COMPLETE=1); its input kept, its answer on stdout.
const fake = join(dir, 'netavark-1.4');
writeFileSync(
  fake,
  `#!/bin/sh
echo "$*" >> ${dir}/calls
cmd=
for a; do case $a in setup|teardown|version) cmd=$a ;; esac; done
[ "$cmd" = version ] && { echo '{"version": "1.4.0"}'; exit 0; }
cat > ${dir}/stdin
[ "\${FAKE_FAIL:-0}" = 1 ] && { echo '{"error": "IO error: fake failure"}'; exit 1; }
for s in $FAKE_SUBNETS; do
  case $s in *:*) t=ip6tables ;; *) t=iptables ;; esac
  if [ "$cmd" = setup ]; then
    $t -N NETAVARK_FORWARD 2>/dev/null || true
    $t -C NETAVARK_FORWARD -s $s -j ACCEPT 2>/dev/null || $t -A NETAVARK_FORWARD -s $s -j ACCEPT
  elif [ "\${FAKE_COMPLETE:-0}" = 1 ]; then
    $t -D NETAVARK_FORWARD -s $s -j ACCEPT
  fi
done
[ "$cmd" = setup ] && echo '{"podman1": {"interfaces": {}}}'
exit 0
`,
  { mode: 0o755 },
);

const machineNetns = statSync('/proc/self/ns/net').ino;
const wrapperFile = (name: string, inode: number) => {
  const file = join(dir, name);
  writeFileSync(file, renderNetavarkWrapper(dir, fake, inode).script, { mode: 0o755 });
  return file;
};
const wrapper = wrapperFile('netavark', machineNetns);
const PODMAN_ARGS = `--config ${dir} --rootless=false --aardvark-binary=/usr/lib/podman/aardvark-dns`;
const A = '10.89.0.0/24 fdaa:bbcc:ddee::/64';
const B = '10.90.0.0/24';
const RULES = 'iptables -S INPUT; iptables -S NETAVARK_INPUT 2>/dev/null; echo ----; ip6tables -S INPUT; ip6tables -S NETAVARK_INPUT 2>/dev/null; true';

interface Step {
  env: string;
  command: string;
}
const setup = (subnets: string, env = ''): Step => ({ env: `FAKE_SUBNETS='${subnets}' ${env}`, command: `setup /run/netns/x` });
const teardown = (subnets: string, complete: boolean): Step => ({ env: `FAKE_SUBNETS='${subnets}' FAKE_COMPLETE=${complete ? 1 : 0}`, command: 'teardown /run/netns/x' });

/** Runs the steps in one fresh network namespace (with NixOS's nixos-fw hooked into INPUT first); per step: exit code, answer, rules. */
function run(steps: Step[]): Array<{ rc: number; answer: string; rules: string }> {
  const program = [
    'for t in iptables ip6tables; do $t -N nixos-fw; $t -A INPUT -j nixos-fw; done',
    ...steps.map(
      (s) => `echo '{"network_info": {}}' | env ${s.env} ${wrapper} ${PODMAN_ARGS} ${s.command} > ${dir}/answer; rc=$?\necho "=== step $rc"; cat ${dir}/answer; echo "=== rules"; ${RULES}`,
    ),
  ].join('\n');
  const out = spawnSync('unshare', ['-n', 'sh', '-c', program], { encoding: 'utf8' });
  expect(out.status, out.stderr).toBe(0);
  return out.stdout
    .split('=== step ')
    .slice(1)
    .map((chunk) => {
      const [head, rules] = chunk.split('=== rules\n');
      const [rc, ...answer] = head!.split('\n');
      return { rc: Number(rc), answer: answer.join('\n').trim(), rules: rules!.trim() };
    });
}

const accepts = (subnet: string, port = 53) => [`-A NETAVARK_INPUT -s ${subnet} -p udp -m udp --dport ${port} -j ACCEPT`, `-A NETAVARK_INPUT -s ${subnet} -p tcp -m tcp --dport ${port} -j ACCEPT`];
const JUMP = '-A INPUT -m comment --comment "netavark firewall rules" -j NETAVARK_INPUT';
const v4 = (rules: string) => rules.split('----')[0]!.trim().split('\n');
const v6 = (rules: string) => rules.split('----')[1]!.trim().split('\n');

describe.runIf(process.getuid?.() === 0)("the netns tier's netavark wrapper against real iptables in a namespace of its own", () => {
  const [first, again, other, partial, completeA, completeB] = run([
    setup(A),
    setup(A),
    setup(B),
    teardown(A, false),
    teardown(A, true),
    teardown(B, true),
  ]);

  it("a network's first setup: the jump first in INPUT (ahead of nixos-fw), udp and tcp accepts from each subnet, IPv4 and IPv6; netavark's answer passed on", () => {
    expect(first!.rc).toBe(0);
    expect(first!.answer).toBe('{"podman1": {"interfaces": {}}}');
    expect(v4(first!.rules)).toEqual(['-P INPUT ACCEPT', JUMP, '-A INPUT -j nixos-fw', '-N NETAVARK_INPUT', ...accepts('10.89.0.0/24')]);
    expect(v6(first!.rules)).toEqual(['-P INPUT ACCEPT', JUMP, '-A INPUT -j nixos-fw', '-N NETAVARK_INPUT', ...accepts('fdaa:bbcc:ddee::/64')]);
    expect(readFileSync(join(dir, 'calls'), 'utf8')).toContain(`${PODMAN_ARGS} setup /run/netns/x`);
  });

  it('another container on it adds nothing; another network appends its own', () => {
    expect(again!.rules).toBe(first!.rules);
    expect(v4(other!.rules)).toEqual(['-P INPUT ACCEPT', JUMP, '-A INPUT -j nixos-fw', '-N NETAVARK_INPUT', ...accepts('10.89.0.0/24'), ...accepts('10.90.0.0/24')]);
  });

  it("a teardown that leaves the network up keeps its accepts; a complete one removes them, the other network's stay", () => {
    expect(partial!.rc).toBe(0);
    expect(partial!.rules).toBe(other!.rules);
    expect(v4(completeA!.rules)).toEqual(['-P INPUT ACCEPT', JUMP, '-A INPUT -j nixos-fw', '-N NETAVARK_INPUT', ...accepts('10.90.0.0/24')]);
    expect(v6(completeA!.rules)).toEqual(['-P INPUT ACCEPT', JUMP, '-A INPUT -j nixos-fw', '-N NETAVARK_INPUT']);
  });

  it('the last complete teardown leaves the chain and the jump, empty (1.14: never removed)', () => {
    expect(v4(completeB!.rules)).toEqual(['-P INPUT ACCEPT', JUMP, '-A INPUT -j nixos-fw', '-N NETAVARK_INPUT']);
  });

  it("netavark's input reaches it unchanged; its failure (answer and exit code) is passed on", () => {
    const [failed] = run([setup(A, 'FAKE_FAIL=1')]);
    expect(readFileSync(join(dir, 'stdin'), 'utf8')).toBe('{"network_info": {}}\n');
    expect(failed!.rc).toBe(1);
    expect(failed!.answer).toBe('{"error": "IO error: fake failure"}');
    expect(failed!.rules).not.toContain('NETAVARK_INPUT -s');
  });

  it('takes the DNS port from NETAVARK_DNS_PORT as netavark does, and refuses one that is not a number', () => {
    const [custom, bad] = run([setup(B, 'NETAVARK_DNS_PORT=5353'), setup(B, 'NETAVARK_DNS_PORT=x')]);
    expect(v4(custom!.rules)).toEqual(expect.arrayContaining(accepts('10.90.0.0/24', 5353)));
    expect(bad!.rc).toBe(1);
    expect(bad!.answer).toContain('Invalid NETAVARK_DNS_PORT x');
  });

  it('hands other subcommands to netavark as they are', () => {
    const out = spawnSync('unshare', ['-n', wrapper, 'version'], { encoding: 'utf8' });
    expect(out.status).toBe(0);
    expect(out.stdout).toBe('{"version": "1.4.0"}\n');
  });

  it("refuses to run in the namespace it was told is the machine's, before netavark runs", () => {
    const calls = readFileSync(join(dir, 'calls'), 'utf8');
    const here = wrapperFile('netavark-here', machineNetns);
    const out = spawnSync(here, ['setup', '/run/netns/x'], { encoding: 'utf8', input: '{}' });
    expect(out.status).toBe(1);
    expect(out.stdout).toContain("refusing to run in the machine's own network namespace");
    expect(readFileSync(join(dir, 'calls'), 'utf8')).toBe(calls);
  });
});
