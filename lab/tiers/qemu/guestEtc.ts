/**
 * Files of the guest's own OS that the lab config decides (relative to /etc): its resolver
 * (the lab's internet DNS) and postfix's main.cf (production's MTA settings). Pure.
 */
import { postfixMainCfText, renderPostfixMainCf } from '../../mail/postfix.ts';
import type { LabConfig } from '../../topology/config.ts';
import { DAEMON_JSON, renderDaemonJson } from '../../designs/dockerEngine.ts';
import { parseSysctlFile } from '../../designs/baseSystem.ts';
import { renderWebArmResolvConf } from '../../topology/v6only.ts';

export function renderResolvConf(config: LabConfig): string {
  return renderWebArmResolvConf(config, ' (written by v6lab)');
}

/** netavark's firewall driver, as NixOS's virtualisation.containers.containersConf.settings would set it. */
export function renderFirewallDriverConf(config: LabConfig): string {
  return `# web-arm's netavark firewall driver (written by v6lab)\n[network]\nfirewall_driver = "${config.webArm.podman.firewallDriver}"\n`;
}

export function guestEtcFiles(config: LabConfig): Record<string, string> {
  return {
    'containers/containers.conf.d/60-v6lab-firewall-driver.conf': renderFirewallDriverConf(config),
    ...(config.webArm.docker.enabled ? { [DAEMON_JSON]: renderDaemonJson({}) } : {}),
    'resolv.conf': renderResolvConf(config),
    'postfix/main.cf': `# web-arm's postfix (written by v6lab; postfix's defaults for everything else)\n${postfixMainCfText(renderPostfixMainCf(config))}`,
  };
}

/** The guest's networkd drop-in that carries uplink sysctls networkd would otherwise undo. */
export const UPLINK_SYSCTL_DROPIN = '40-v6lab-uplink-sysctl.conf';

/**
 * systemd-networkd manages the Debian guest's uplink and writes its proxy_ndp each time it
 * configures the link (IPv6ProxyNDP=; unset: on only with IPv6ProxyNDPAddress= entries), so a
 * sysctl.d `net.ipv6.conf.<uplink>.proxy_ndp = 1` is undone at every boot, after systemd-sysctl
 * (seen: 1 before a real reboot, 0 after it). NixOS's scripted networking (production's uplink,
 * networking.interfaces) leaves the sysctl as it is. The closest equivalent on the guest: the
 * same setting as a networkd drop-in for the uplink. Pure.
 */
export function uplinkSysctlDropIns(files: Readonly<Record<string, string>>, uplink: string): Record<string, string> {
  const key = `net.ipv6.conf.${uplink}.proxy_ndp`;
  const values = Object.entries(files)
    .filter(([path]) => path.startsWith('sysctl.d/'))
    .flatMap(([, text]) => parseSysctlFile(text))
    .flatMap(([k, v]) => (k === key ? [v] : []));
  const value = values.at(-1);
  if (value === undefined) return {};
  return {
    [`systemd/network/10-${uplink}.network.d/${UPLINK_SYSCTL_DROPIN}`]:
      `# ${key} = ${value} from sysctl.d, as networkd would otherwise undo it (written by v6lab)\n[Network]\nIPv6ProxyNDP=${value === '1' ? 'yes' : 'no'}\n`,
  };
}

/** Units a real systemd restarts when files under a directory change (as switch-to-configuration does). */
export const RESTART_ON_CHANGE: ReadonlyArray<{ prefix: string; suffix?: string; unit: string }> = [
  { prefix: '/etc/sysctl.d/', unit: 'systemd-sysctl.service' },
  { prefix: '/etc/postfix/', unit: 'postfix.service' },
  { prefix: '/etc/docker/', unit: 'docker.service' },
  // networkd applies its drop-in when it configures the link again.
  { prefix: '/etc/systemd/network/', suffix: `/${UPLINK_SYSCTL_DROPIN}`, unit: 'systemd-networkd.service' },
];
