/**
 * The qemu tier's foundation, end to end, for one guest architecture (V6LAB_QEMU_ARCH: x86_64,
 * the default, or aarch64): the guest image is built (or taken from the cache; an aarch64 one
 * is built under qemu-user, ~17 min), web-arm boots under QEMU inside a lab namespace holding
 * its tap, reaches multi-user.target with its static uplink configured by systemd-networkd,
 * answers through its agent, reaches the router's end of its link, powers off, and leaves
 * nothing behind.
 *
 * Slow (a cold TCG boot takes a minute or two), so gated: V6LAB_QEMU=1 and root.
 */
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../lab/exec.ts';
import { findProcesses } from '../../lab/host/processes.ts';
import { netnsPath } from '../../lab/links/netns.ts';
import { createProgress } from '../../lab/progress.ts';
import { QEMU_ARCH } from '../../lab/images/foreign.ts';
import { GUEST_ARCHES, type GuestArch, guestRecipe, guestSpecFromConfig } from '../../lab/tiers/qemu/recipe.ts';
import { ensureGuestImage, type GuestImage } from '../../lab/tiers/qemu/image.ts';
import { consoleTail, destroyVm, powerOffVm, type RunningVm, startVm, vmNames } from '../../lab/tiers/qemu/vm.ts';
import { defaultConfig } from '../../lab/topology/config.ts';

const enabled = process.env.V6LAB_QEMU === '1' && process.getuid?.() === 0;
const LAB = `qt${process.pid % 10000}`;
const MINUTE = 60_000;

/** The guest architecture by QEMU's name (as in qemu-system-<name>). */
function archFromEnv(value = process.env.V6LAB_QEMU_ARCH ?? 'x86_64'): GuestArch {
  const arch = GUEST_ARCHES.find((a) => QEMU_ARCH[a] === value);
  if (!arch) throw new Error(`V6LAB_QEMU_ARCH=${value}: expected one of ${GUEST_ARCHES.map((a) => QEMU_ARCH[a]).join(', ')}`);
  return arch;
}
const ARCH = archFromEnv();

describe.runIf(enabled)(`qemu tier: web-arm as an ${QEMU_ARCH[ARCH]} guest`, () => {
  const config = defaultConfig();
  const names = vmNames(LAB);
  const progress = createProgress({ style: 'plain' });
  const times: Record<string, number> = {};
  let image: GuestImage;
  let vm: RunningVm | undefined;

  afterAll(async () => {
    if (vm) vm.agent.close();
    await destroyVm(names);
    process.stderr.write(`qemu tier times (ms): ${JSON.stringify(times)}\n`);
  });

  it('builds the guest image, or takes it from the cache', async () => {
    const started = performance.now();
    image = await ensureGuestImage(guestRecipe(guestSpecFromConfig(config, ARCH)), progress);
    expect(image.arch).toBe(ARCH);
    times[image.built ? 'imageBuild' : 'imageFromCache'] = Math.round(performance.now() - started);
    expect(existsSync(image.base)).toBe(true);
    expect(existsSync(image.kernel)).toBe(true);
    expect(existsSync(image.initrd)).toBe(true);
  }, 45 * MINUTE);

  it('boots to multi-user.target and reaches the agent', async () => {
    vm = await startVm(
      {
        names,
        image,
        mac: config.webArm.mac,
        peer: {
          mac: config.upstream.mac,
          linkLocal: config.upstream.linkLocal,
          ipv4Gateway: config.upstream.ipv4Gateway,
          guestPrefix6: `${config.webArm.ipv6.address}/${config.webArm.ipv6.prefixLength}`,
          guestAddress4: config.webArm.ipv4.address,
        },
      },
      progress,
    );
    const running = vm;
    try {
      await running.agent.waitForAgent(10 * MINUTE);
      times.bootToAgent = Math.round(performance.now() - running.startedAt);
      await running.agent.waitForUnit('multi-user.target', 10 * MINUTE);
      times.bootToMultiUser = Math.round(performance.now() - running.startedAt);
    } catch (error) {
      process.stderr.write(`console of ${names.name}:\n${consoleTail(running, 60)}\n`);
      throw error;
    }
    expect((await running.agent.succeed('hostname')).trim()).toBe(config.webArm.hostname);
    expect((await running.agent.succeed('uname -m')).trim()).toBe(QEMU_ARCH[ARCH]);
  }, 25 * MINUTE);

  it('has the static uplink: GUA on enp1s0, networkd active, routes via the on-link gateways', async () => {
    const agent = vm!.agent;
    expect((await agent.succeed('systemctl is-active systemd-networkd')).trim()).toBe('active');
    const addresses = await agent.waitUntilSucceeds(
      `ip -6 addr show dev ${config.webArm.uplink} | grep -F '${config.webArm.ipv6.address}/${config.webArm.ipv6.prefixLength}' | grep -v tentative`,
      60_000,
    );
    expect(addresses).toContain(`${config.webArm.ipv6.address}/64`);
    expect(await agent.succeed(`ip -4 addr show dev ${config.webArm.uplink}`)).toContain(`${config.webArm.ipv4.address}/32`);
    expect(await agent.succeed('ip -6 route show default')).toMatch(/default via fe80::1 dev enp1s0/);
    expect(await agent.succeed('ip -4 route show default')).toMatch(/default via 172\.31\.1\.1 dev enp1s0/);
    expect((await agent.succeed(`cat /proc/sys/net/ipv6/conf/${config.webArm.uplink}/accept_ra`)).trim()).toBe('0');
    // Only the uplink and loopback: no second NIC.
    expect((await agent.succeed('ls /sys/class/net')).split(/\s+/).filter(Boolean).sort()).toEqual(['enp1s0', 'lo']);
    // Nothing failed on the way up; podman uses netavark.
    const running = await agent.execute('systemctl is-system-running --wait', { timeoutMs: 120_000 });
    const failed = running.stdout.trim() === 'running' ? '' : await agent.succeed('systemctl --failed --no-legend --plain');
    expect(`${running.stdout.trim()}\n${failed}`.trim()).toBe('running');
    expect((await agent.succeed("podman info --format '{{.Host.NetworkBackend}}'", { timeoutMs: 120_000 })).trim()).toBe('netavark');
    // Postfix was configured without questions, for this guest.
    expect((await agent.succeed('postconf -h myhostname')).trim()).toBe(config.webArm.hostname);
    expect((await agent.succeed('systemctl is-active postfix')).trim()).toBe('active');
    // Root cannot log in.
    expect(await agent.succeed("grep '^root:' /etc/shadow")).toMatch(/^root:!/);
  }, 5 * MINUTE);

  it('reaches the router end of its link (fe80::1, 172.31.1.1) and is reached at its GUA', async () => {
    const agent = vm!.agent;
    await agent.waitUntilSucceeds(`ping -c1 -W2 ${config.upstream.linkLocal}%${config.webArm.uplink}`, 60_000);
    await agent.succeed(`ping -c1 -W2 ${config.upstream.ipv4Gateway}`);
    // From the router's end (this machine has no ping): a TCP SYN to the GUA, resolved by
    // neighbour discovery (the /64 is on-link), is answered by the guest's kernel with a reset
    // at once (curl exit 7, "couldn't connect"); an address nobody answers for ends in "no
    // route to host" after the neighbour solicitations fail. The router's neighbour entry for
    // the GUA then holds web-arm's MAC.
    const fromRouter = await run(
      ['nsenter', `--net=${netnsPath(names.netns)}`, '--', 'curl', '-sS', '--max-time', '5', `http://[${config.webArm.ipv6.address}]:9/`],
      { allowFailure: true },
    );
    expect(fromRouter.exitCode, fromRouter.stderr).toBe(7);
    expect(fromRouter.stderr).not.toMatch(/no route to host/i);
    const neighbours = await run(['ip', '-n', names.netns, '-6', 'neigh', 'show', config.webArm.ipv6.address], {});
    expect(neighbours.stdout).toContain(config.webArm.mac);
  }, 5 * MINUTE);

  it('powers off and leaves no QEMU, tap or namespace behind', async () => {
    const started = performance.now();
    const { clean } = await powerOffVm(vm!);
    times.powerOff = Math.round(performance.now() - started);
    vm = undefined;
    expect(clean).toBe(true);
    expect(findProcesses({ cmdlineContains: `process=${names.processMark}` })).toEqual([]);
    expect(existsSync(netnsPath(names.netns))).toBe(false);
    expect(existsSync(names.runDir)).toBe(false);
    expect(existsSync(`/run/v6lab/${LAB}`)).toBe(false);
    const links = await run(['ip', '-o', 'link', 'show'], {});
    expect(links.stdout).not.toContain(`v6lab:${LAB}`);
  }, 5 * MINUTE);
});
