/**
 * The netns tier's netavark wrapper (lab/tiers/netns/netavarkWrapper.ts), as rendered: what it
 * runs, which rules it keeps, where podman finds it. Pure; test/integration/netavarkWrapper.test.ts
 * runs it against real iptables in a network namespace of its own.
 */
import { describe, expect, it } from 'vitest';
import { renderContainersConf, settingsFor } from '../../lab/podman/hostSettings.ts';
import { NETAVARK_INPUT_JUMP, PODMAN_HELPER_DIRS, realNetavarkPath, renderNetavarkWrapper } from '../../lab/tiers/netns/netavarkWrapper.ts';

const wrapper = renderNetavarkWrapper('/work/.lab/x/web-arm', '/usr/lib/podman/netavark', 4026531840);
const lines = wrapper.script.split('\n');

describe("the netns tier's netavark wrapper", () => {
  it('sits first in helper_binaries_dir, podman\'s own directories after it', () => {
    expect(wrapper.dir).toBe('/work/.lab/x/web-arm/libexec/podman');
    expect(wrapper.helperDirs).toEqual([wrapper.dir, ...PODMAN_HELPER_DIRS]);
    expect(lines[0]).toBe('#!/bin/sh');
  });

  it("refuses to run in the machine's own network namespace before it runs anything", () => {
    const guard = lines.findIndex((l) => l.includes('stat -L -c %i /proc/self/ns/net') && l.endsWith('= 4026531840 ]; then'));
    expect(guard).toBeGreaterThan(0);
    expect(lines[guard + 2]).toBe('  exit 1');
    expect(lines.findIndex((l) => l.includes('"$real"'))).toBeGreaterThan(guard);
  });

  it('hands every other subcommand (version, update, …) to the real netavark untouched', () => {
    expect(wrapper.script).toContain(`real='/usr/lib/podman/netavark'`);
    expect(wrapper.script).toContain('  *" setup "* | *" teardown "*) ;;\n  *) exec "$real" "$@" ;;');
  });

  it("keeps 1.14's rules: the chain, INPUT's jump at position 1, udp and tcp accepts from each subnet 1.4 forwards, on NETAVARK_DNS_PORT (53)", () => {
    expect(NETAVARK_INPUT_JUMP).toBe("-m comment --comment 'netavark firewall rules' -j NETAVARK_INPUT");
    // One listing of the filter table per family; the subnets 1.4 forwards read from it.
    expect(wrapper.script).toContain('rules=$($t -S) || return 1');
    expect(wrapper.script).toContain("sed -n 's|^-A NETAVARK_FORWARD -s \\([^ ]*\\) -j ACCEPT$|\\1|p'");
    expect(wrapper.script).toContain("has '-N NETAVARK_INPUT' || $t -N NETAVARK_INPUT");
    expect(wrapper.script).toContain(`has '-A INPUT -m comment --comment "netavark firewall rules" -j NETAVARK_INPUT' || $t -I INPUT 1 ${NETAVARK_INPUT_JUMP}`);
    expect(wrapper.script).toContain('has "-A NETAVARK_INPUT -s $s -p $p -m $p --dport $port -j ACCEPT" || ');
    expect(wrapper.script).toContain('for p in udp tcp; do');
    expect(wrapper.script).toContain('$t -A NETAVARK_INPUT -p $p -s $s --dport $port -j ACCEPT');
    expect(wrapper.script).toContain('port=${NETAVARK_DNS_PORT:-53}');
    expect(wrapper.script).toContain('dns_accepts iptables && dns_accepts ip6tables');
    // What it removes: only accepts of subnets no longer forwarded; never the jump or the chain.
    expect(wrapper.script).toContain('$t -D NETAVARK_INPUT -p $p -s $s --dport $port -j ACCEPT');
    expect(wrapper.script).not.toMatch(/-D INPUT|-X|-F/);
  });

  it('passes the real netavark\'s answer and exit code on, or answers with an error in netavark\'s form', () => {
    expect(wrapper.script).toContain('out=$("$real" "$@")\nrc=$?');
    expect(wrapper.script).toContain(`[ -z "$out" ] || printf '%s\\n' "$out"\nexit $rc\n`);
    expect(wrapper.script).toContain(`printf '{"error": "v6lab netavark wrapper: the DNS accepts of NETAVARK_INPUT failed: %s"}\\n'`);
  });

  it("finds the machine's netavark in podman's own helper directories", () => {
    expect(realNetavarkPath((p) => p === '/usr/lib/podman/netavark')).toBe('/usr/lib/podman/netavark');
    expect(() => realNetavarkPath(() => false)).toThrow(/apt-get install netavark/);
  });

  it("goes into web-arm's containers.conf as helper_binaries_dir under [engine], and nowhere else", () => {
    const text = renderContainersConf(settingsFor({ systemdIsInit: false, unifiedCgroups: false, crunInstalled: false, nofileHardLimit: 4096 }), {
      tmpDir: '/run/x/libpod',
      networkConfigDir: '/x/networks',
      helperBinariesDirs: ['/x/libexec/podman', '/usr/lib/podman'],
    });
    const conf = text.split('\n');
    const at = conf.indexOf('helper_binaries_dir = ["/x/libexec/podman", "/usr/lib/podman"]');
    expect(at).toBeGreaterThan(conf.indexOf('[engine]'));
    expect(at).toBeLessThan(conf.indexOf('[network]'));
    expect(renderContainersConf(settingsFor({ systemdIsInit: true, unifiedCgroups: true, crunInstalled: true, nofileHardLimit: 1 << 20 }), { tmpDir: '/t', networkConfigDir: '/n' })).not.toContain('helper_binaries_dir');
  });
});
