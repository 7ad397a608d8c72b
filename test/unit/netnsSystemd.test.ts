/**
 * The pure parts of the netns tier's emulated systemd (lab/tiers/netns/): where a podman run
 * line keeps its container id (what Type=notify waits on), the mark of the Restart= watchers, and
 * web-arm's own /run (a tmpfs with the lab's runtime directory bound back in). Pure.
 */
import { describe, expect, it } from 'vitest';
import { cidFileOf, supervisorMark } from '../../lab/tiers/netns/unitRunner.ts';
import { privateRunScript } from '../../lab/tiers/netns/webArm.ts';
import { defaultConfig } from '../../lab/topology/config.ts';
import { planLab } from '../../lab/topology/plan.ts';

describe('the emulated systemd on the netns tier', () => {
  it('finds the id file of a podman run line', () => {
    expect(cidFileOf(['podman', 'run', '--name=x', '--cidfile=/run/x/ctr-id', '-d', 'img'])).toBe('/run/x/ctr-id');
    expect(cidFileOf(['podman', 'run', '--cidfile', '/run/y/ctr-id', 'img'])).toBe('/run/y/ctr-id');
    expect(cidFileOf(['podman', 'run', 'img'])).toBeUndefined();
  });

  it("marks a lab's Restart= watchers so that no other lab's match", () => {
    const plan = planLab({ ...defaultConfig(), lab: { ...defaultConfig().lab, name: 'i21' } });
    expect(supervisorMark(plan)).toBe('unitSupervisor.ts --name i21 ');
    expect('node /x/unitSupervisor.ts --name i21x podman-a.service'.includes(supervisorMark(plan))).toBe(false);
  });

  it("gives web-arm its own /run, the lab's runtime directory bound back in, before anything else is mounted", () => {
    const plan = planLab(defaultConfig());
    const script = privateRunScript(plan).split('\n');
    const tmpfs = script.indexOf('mount -t tmpfs -o mode=0755 v6lab-web-arm-run /run');
    expect(script.indexOf(`mount --bind ${plan.runtimeDir} ${plan.webArm.persistentDir}/.run-stash`)).toBeLessThan(tmpfs);
    expect(script.indexOf(`mount --move ${plan.webArm.persistentDir}/.run-stash ${plan.runtimeDir}`)).toBeGreaterThan(tmpfs);
    expect(script.findIndex((l) => l.startsWith('mount --bind') && l.endsWith('/etc/resolv.conf'))).toBeGreaterThan(tmpfs);
  });
});
