/**
 * The design contract: a pure plan (validated params → files and units for web-arm) plus an
 * idempotent apply (done by the tier, which installs the plan like `nixos-rebuild switch`).
 */
import type { LabConfig } from '../topology/config.ts';
import type { UnitSpec } from '../units/model.ts';
import type { DeclaredVerdicts } from '../scenario/ids.ts';

/** Where a rendering puts web-arm's files: the real /etc on a VM, a lab directory on netns. */
export interface HostLayout {
  /** Directory that plays /etc (units, sysctl.d, firewall rules). */
  etc: string;
  /** The podman API socket podman.service listens on. */
  podmanSocket: string;
  /** The image the lab's containers run (stand-ins and probes). */
  image: string;
  /** podman's network config directory (where network definitions live as JSON files). */
  networkConfigDir: string;
  /**
   * Whose systemd runs the units (default emulated, the netns tier). A real systemd (the qemu
   * guest) has its own systemd-sysctl.service and podman.service: they are not rendered.
   */
  systemd?: 'emulated' | 'real';
}

export interface ProbeContainer {
  /** Container name, e.g. "v6probe". */
  name: string;
  network: string;
  /** A port it listens on without publishing it (for no-inbound). */
  listenPort: number;
  /** A fixed IPv6 address, when the design needs to know it (e.g. for NDP proxy entries). */
  ipv6?: string;
  /**
   * The shell prefix that runs a command inside the probe on web-arm (default
   * `podman exec <name>`): `docker exec <name>` for a Docker design, a machine's for nspawn.
   */
  exec?: string;
  /**
   * A port the probe publishes on the host (hostPort → containerPort, over IPv4 and IPv6) and
   * one it listens on without publishing; absent when the design publishes nothing (the
   * inbound-portfwd scenario then publishes a port of a container of its own on the network).
   */
  published?: { hostPort: number; containerPort: number; unpublishedPort: number };
  /** The systemd unit that runs the probe (default `podman-<name>.service`, the oci-containers shape). */
  unit?: string;
}

export function probeUnitOf(probe: ProbeContainer): string {
  return probe.unit ?? `podman-${probe.name}.service`;
}

export function probeExecOf(probe: ProbeContainer): string {
  return probe.exec ?? `podman exec ${probe.name}`;
}

/** What the design intends, for checks that compare it with what the host shows. */
export interface NetworkIntent {
  name: string;
  subnets: string[];
  ipv6: boolean;
  /** Whose network it is (default podman). */
  engine?: 'podman' | 'docker';
  /** The design's own ensure command for it (exists || create), when it has one. */
  ensureCommand?: string;
}

export interface DesignPlan {
  design: string;
  params: Record<string, unknown>;
  /** Files relative to the layout's etc directory, with their content. */
  files: Record<string, string>;
  units: UnitSpec[];
  probe: ProbeContainer;
  networks: NetworkIntent[];
  /** Sysctls the design sets on web-arm (name → value). */
  sysctls: Record<string, string>;
  /** Whose IPv6 address the internet sees for the probe: the host GUA (NAT66) or its own (routed). */
  egressSource: 'host' | 'container';
  /**
   * The verdict the design declares per scenario id where it is not "pass": an intended
   * failure ("fail") or a scenario that does not apply ("skipped"). Measured verdicts that
   * differ from it are flagged.
   */
  expectations: DeclaredVerdicts;
}

export interface Design<P> {
  name: string;
  summary: string;
  /** Validates raw params (defaults filled in); ConfigError names `design.params.<field>`. */
  parseParams(raw: Record<string, unknown>, config: LabConfig): P;
  plan(params: P, config: LabConfig, layout: HostLayout): DesignPlan;
  /** The topology variant the design is made for (`lab compare` sets it for the design's lab). */
  topology?: { ipv4: false };
}
