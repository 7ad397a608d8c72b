/**
 * web-arm on the qemu tier as a started WebArm: the Debian guest (real systemd; the lab writes
 * units and files through the agent and runs systemctl) and the NixOS guest (modules switched by
 * NixOS, nixosGuest.ts) share the machine: the guest agent's verbs, waitForUnit and a real
 * reboot (the guest's systemd, then multi-user.target with a new boot id).
 */
import { findProcesses } from '../../host/processes.ts';
import { netnsPath } from '../../links/netns.ts';
import type { SystemMachine } from '../../nodes/machine.ts';
import type { LabPlan } from '../../topology/plan.ts';
import { realSystemMachine, systemctlUnitVerbs } from '../systemctl.ts';
import type { WebArm, WebArmWhereabouts } from '../tier.ts';
import { qemuCapabilities } from './capabilities.ts';
import { guestEtcFiles, uplinkSysctlDropIns } from './guestEtc.ts';
import { guestMachine, webArmVmNames } from './guestMachine.ts';
import { rebootGuest } from './guestPower.ts';
import { switchGuest } from './guestSwitch.ts';
import { journalLogs } from '../journalLogs.ts';
import { vmConsole } from './vm.ts';

/** The guest's podman API socket (Debian's podman.socket). */
export const GUEST_PODMAN_SOCKET = '/run/podman/podman.sock';

export function guestSystemMachine(plan: LabPlan): SystemMachine {
  return realSystemMachine(guestMachine(plan), 'systemctl reboot in the guest', (progress) => rebootGuest(plan, progress));
}

export function guestWhereabouts(plan: LabPlan): WebArmWhereabouts {
  return {
    kind: 'qemu',
    // The guest's kernel has no namespace here: its link is the router's tap.
    where: `${netnsPath(plan.upstream.netnsName)} (tap ${plan.upstream.toWebArmIf})`,
    present: findProcesses({ cmdlineContains: `process=${webArmVmNames(plan).processMark}` }).length > 0,
  };
}

/** The Debian trixie guest. */
export function debianWebArm(plan: LabPlan): WebArm {
  const machine = guestSystemMachine(plan);
  const etc = '/etc';
  return {
    tier: 'qemu',
    machine,
    capabilities: qemuCapabilities(plan.config),
    layout: (image) => ({ etc, podmanSocket: GUEST_PODMAN_SOCKET, image, networkConfigDir: '/etc/containers/networks', systemd: 'real' }),
    // The guest's resolver and netavark's firewall driver (the netns tier bind-mounts its own).
    extraFiles: () => guestEtcFiles(plan.config),
    switch: (units, files, progress, options = {}) => {
      const withDropIns = { ...files, ...uplinkSysctlDropIns(files, plan.config.webArm.uplink) };
      return switchGuest(machine, units, Object.fromEntries(Object.entries(withDropIns).map(([rel, text]) => [`${etc}/${rel}`, text])), progress, options);
    },
    // dockerd on or off, as webArm.docker.enabled says (Debian's docker.io enables it at
    // install, as production's virtualisation.docker.enable does). On: dockerd is started again
    // on a FORWARD policy as the kernel boots with it (ACCEPT), as after a NixOS boot, where
    // systemd-sysctl applies the docker module's IPv4 forwarding before dockerd starts. (The
    // image's first boot started dockerd before the base system's sysctl.d existed: it found
    // forwarding off, turned it on and set the policy to DROP, which no NixOS boot does.)
    async afterBaseInstall(progress) {
      const enabled = plan.config.webArm.docker.enabled;
      const command = enabled
        ? 'systemctl enable docker.service && systemctl stop docker.socket docker.service && iptables -w -P FORWARD ACCEPT && systemctl start docker.service && systemctl start multi-user.target'
        : 'systemctl disable --now docker.socket docker.service';
      await progress.step(`dockerd ${enabled ? 'on (as production)' : 'off (webArm.docker.enabled=false)'}`, () => machine.succeed(command, { timeoutMs: 180_000 }));
    },
    ...systemctlUnitVerbs(machine),
    whereabouts: () => guestWhereabouts(plan),
    logs: journalLogs(machine),
    console: vmConsole(webArmVmNames(plan)),
  };
}
