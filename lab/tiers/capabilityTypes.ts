/**
 * The capability set: the names and meanings of what web-arm can do on a tier (the shape each
 * tier's table fills in, lab/tiers/<tier>/capabilities.ts). Types only; the one place that picks
 * a tier's table is lab/tiers/capabilities.ts. Pure.
 */
export interface Capabilities {
  /** web-arm's units run under a real systemd (else the lab's emulated unit runner). */
  realSystemd: boolean;
  /** A reboot is web-arm's own (a new kernel boot), not emulated by recreating namespaces. */
  realReboot: boolean;
  /** Docker (docker.io) is installed on web-arm. */
  docker: boolean;
  /** dockerd runs on web-arm (installed, and webArm.docker.enabled). */
  dockerd: boolean;
  /** web-arm runs postfix (its mail path can be observed). */
  postfix: boolean;
  /** systemd-nspawn with machined and systemd-networkd. */
  nspawn: boolean;
  /** clatd (with tayga) is installed on web-arm. */
  clatd: boolean;
  /** netavark on web-arm has its nftables firewall driver (else iptables only). */
  netavarkNftables: boolean;
  /**
   * netavark accepts DNS from its networks to aardvark-dns itself, ahead of the host firewall
   * (NETAVARK_INPUT; netavark 1.14 on the qemu guest, measured, and in nixos-25.11), so NixOS's
   * firewall, which opens nothing for it on podman bridges, does not cut containers off their
   * resolver. Debian bookworm's netavark 1.4 has no such rule (nixpkgs#272480): the netns tier
   * emulates 1.14's (its `emulated` says so).
   */
  netavarkAcceptsDns: boolean;
  /**
   * The LOG lines of web-arm's firewall ("refused connection: ") reach a kernel log web-arm can
   * read (journalctl -k on a VM). In a network namespace of this machine the kernel writes none
   * (net.netfilter.nf_log_all_netns is off, and the lab leaves the machine's setting alone): the
   * LOG rule's packet counter is what witnesses a refusal there.
   */
  firewallLogLines: boolean;
  /** A started web-arm can be saved and restored (a clean web-arm snapshot). */
  snapshot: boolean;
  /** web-arm answers commands from several processes at once (observing scenarios side by side). */
  concurrentCommands: boolean;
  /** How many labs of this tier this machine runs side by side in a comparison. */
  labsSideBySide: number;
  /**
   * The capabilities above that the tier has by the lab's emulation rather than by the software
   * production runs, each with how (empty: none). A story that relies on one says so
   * (ScenarioRun.emulated), so its verdict reads "emulated".
   */
  emulated: { readonly [K in Exclude<keyof Capabilities, 'emulated' | 'labsSideBySide'>]?: string };
}

export type CapabilityName = {
  [K in keyof Capabilities]-?: Capabilities[K] extends boolean ? K : never;
}[keyof Capabilities];
