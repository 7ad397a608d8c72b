/**
 * Files of the guest's own OS that the lab config decides (relative to /etc): its resolver
 * (the lab's internet DNS) and postfix's main.cf (production's MTA settings). Pure.
 */
import { postfixMainCfText, renderPostfixMainCf } from '../../mail/postfix.ts';
import type { LabConfig } from '../../topology/config.ts';
import { DAEMON_JSON, renderDaemonJson } from '../../designs/dockerEngine.ts';
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

/** Units a real systemd restarts when files under a directory change (as switch-to-configuration does). */
export const RESTART_ON_CHANGE: ReadonlyArray<{ prefix: string; unit: string }> = [
  { prefix: '/etc/sysctl.d/', unit: 'systemd-sysctl.service' },
  { prefix: '/etc/postfix/', unit: 'postfix.service' },
  { prefix: '/etc/docker/', unit: 'docker.service' },
];
