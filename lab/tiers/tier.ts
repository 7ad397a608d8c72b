/**
 * The tier seam: what every tier (what web-arm is — namespaces, a QEMU guest, a Vagrant VM)
 * implements, and what the rest of the lab may ask of it. Nothing outside lab/tiers/ compares a
 * tier or guest name: it asks a started web-arm's capabilities, or calls the tier through this
 * interface. Optional abilities are small interfaces of their own: a machine's shell and
 * namespace (lab/nodes/machine.ts), web-arm's console (ConsoleAbility), a tier's snapshots
 * (SnapshotAbility). Forks of a saved web-arm build on SnapshotAbility (issue 19).
 * Types only.
 */
import type Docker from 'dockerode';
import type { LogChunk } from '../engine/logStream.ts';
import type { HostLayout } from '../designs/design.ts';
import type { Progress } from '../progress.ts';
import type { Tier as TierName } from '../report/model.ts';
import type { LabState, NodeImageRecord } from '../state/store.ts';
import type { LabConfig } from '../topology/config.ts';
import type { LabPlan } from '../topology/plan.ts';
import type { UnitSpec } from '../units/model.ts';
import type { RebootResult, SystemMachine } from '../nodes/machine.ts';
import type { StartResult, SwitchResult } from '../units/results.ts';
import type { Capabilities } from './capabilityTypes.ts';

export type { TierName, Capabilities, RebootResult };

/** The node image web-arm's podman runs, as built for web-arm's architecture (the lab's one image record). */
export type WebArmImage = Required<NodeImageRecord>;

export interface SwitchOptions {
  /** Called right before the given unit starts (only for units in startLast). */
  beforeStart?: (unit: string) => Promise<void>;
  /** Units the hook wants to see start (started after the others where the tier can order it). */
  startLast?: readonly string[];
  /** false: install without starting anything (the machine boots with it). */
  start?: boolean;
}

/** Where web-arm is, as `lab status` shows it. */
export interface WebArmWhereabouts {
  kind: TierName;
  /** Its network namespace, or where its link is (the router's tap, a bridge). */
  where: string;
  present: boolean;
}

/** One log web-arm keeps, found by name: where it comes from, how to read it, how to follow it. */
export interface WebArmLog {
  /** One line for stderr: where the log comes from. */
  readonly description: string;
  /** The log once; `tail`: only its last lines (per source). */
  read(tail: number | undefined): Promise<LogChunk[]>;
  /** The argv that follows it until Ctrl-C; absent where the tier cannot follow (with the reason). */
  followArgv?(tail: number | undefined): string[];
  /** Why this log cannot be followed (when followArgv is absent). */
  readonly whyNoFollow?: string;
}

/** web-arm's logs on a tier: its units', its containers', its own (every unit, or the journal of this boot). */
export interface WebArmLogs {
  /** The log of web-arm itself (its node name), a unit or a container; undefined when nothing has that name. */
  find(target: string): Promise<WebArmLog | undefined>;
  /** What has logs, for the message when nothing matched. */
  known(): Promise<string[]>;
}

/** Optional ability: web-arm's serial console, as its kernel and init print it (a VM's). */
export interface ConsoleAbility {
  /** The file the console is written to, on this machine. */
  readonly consolePath: string;
  /** Its last lines ('' before anything was printed). */
  consoleTail(lines: number): string;
}

/** A snapshot a tier holds on this machine (`lab snapshot list`). */
export interface SnapshotSummary {
  key: string;
  /** What it is, in words ("clean web-arm: base system running, no design"). */
  what: string;
  savedAt: string;
  savedBy: string;
  /** Bytes on disk (state and disk overlay). */
  bytes: number;
  /** Facts of the machine it was saved from (arch, accelerator, QEMU). */
  facts: Record<string, string>;
}

/**
 * Optional ability of a tier: it saves a started web-arm and restores it later. Its start
 * restores a matching snapshot (and says so in the guest record); these verbs let a person
 * see and remove what is kept (`lab snapshot`).
 */
export interface SnapshotAbility {
  /** The snapshots this machine holds, newest first. */
  listSnapshots(): SnapshotSummary[];
  /** Removes one by key; true when it was there, false when it was already gone (success). */
  removeSnapshot(key: string): boolean;
}

/**
 * Optional ability of a tier: forks of web-arm. A fork is a lab of its own whose web-arm is
 * restored from the tier's snapshot in seconds, so a run's scenarios can be shared among the
 * lab's own web-arm and forks side by side (`lab test --parallel N`).
 */
export interface ForkAbility {
  /** Memory one web-arm takes on this machine (what bounds the default number of forks). */
  readonly webArmMemoryMiB: number;
  /** About what bringing a fork up and down costs (restore, design, router, internet), in ms: less work than this is not forked. */
  readonly forkCostMs: number;
}

/**
 * A started web-arm, whatever the tier: one Machine with the NixOS test driver's verbs, and the
 * system manager that installs a rendered system like `nixos-rebuild switch`.
 */
export interface WebArm {
  readonly tier: TierName;
  readonly machine: SystemMachine;
  readonly capabilities: Capabilities;
  /** Where renderings put files and which units the tier's own OS provides. */
  layout(image: string): HostLayout;
  /** Files the tier's OS needs beside the rendering (relative to the layout's etc). */
  extraFiles(): Record<string, string>;
  /** Installs units and files (relative to the layout's etc) like `nixos-rebuild switch`. */
  switch(units: UnitSpec[], files: Record<string, string>, progress: Progress, options?: SwitchOptions): Promise<SwitchResult>;
  /** After the base system is installed: what the OS itself still sets (dockerd on or off). */
  afterBaseInstall(progress: Progress): Promise<void>;
  restart(unit: string, progress: Progress): Promise<StartResult>;
  stop(unit: string, progress: Progress): Promise<void>;
  start(unit: string, progress: Progress): Promise<StartResult>;
  whereabouts(): WebArmWhereabouts;
  /** Its logs (`lab logs`). */
  readonly logs: WebArmLogs;
  /** Its serial console, where it has one (a VM). */
  readonly console?: ConsoleAbility;
  /** web-arm's podman API, where this machine reaches its socket (for the live topology). */
  podmanApi?(): Docker;
}

/**
 * The system web-arm runs once the design is applied, as the lifecycle renders it: the design,
 * its parameters in one line, and a fingerprint of everything that decides it (the rendered
 * units and files of base and design, the config without the lab's name, the baselines taken
 * around the apply). Two labs with the same fingerprint apply the same thing.
 */
export interface DesignedSystem {
  design: string;
  params: string;
  fingerprint: string;
}

/** web-arm came up with the design already applied (a design-applied snapshot restored). */
export interface DesignRestored {
  key: string;
  savedAt: string;
  savedBy: string;
  /** The baselines the saving lab took around its apply: file name (under the state dir's snapshots/) → content. */
  baselines: Record<string, string>;
}

/** What a tier's start needs: the lab's plan, web-arm's image and a place to record what it made. */
export interface StartRequest<P> {
  plan: LabPlan;
  prerequisites: P;
  image: WebArmImage;
  progress: Progress;
  /** Records what the tier made as soon as it exists (the crash record `down` reads). */
  record(patch: Partial<Pick<LabState, 'guest' | 'vagrant' | 'nixos'>>): void;
  signal?: AbortSignal;
  /**
   * Where the tier can keep web-arm with the design applied (AppliedSnapshotAbility): the system
   * the lifecycle will apply, rendered for the tier's web-arm, and what to call when the start
   * restored it already applied (the lifecycle then applies nothing and takes no baselines).
   */
  designed?: { render(webArm: WebArm): DesignedSystem; restored(restored: DesignRestored): void };
}

/**
 * Optional ability of a tier: after a design was applied in full, web-arm is saved with it
 * applied; a later start with the same designed system restores it (StartRequest.designed).
 */
export interface AppliedSnapshotAbility {
  /** Saves the started web-arm of this lab with the design applied; a failure is a note, the lab goes on. */
  saveApplied(request: { plan: LabPlan; designed: DesignedSystem; baselines: Record<string, string>; progress: Progress; record: StartRequest<unknown>['record'] }): Promise<void>;
}

/** Work a tier can begin early, beside the router and internet hosts (awaited by start). */
export type EarlyWork = Promise<unknown> | undefined;

export interface Tier<P = unknown> {
  readonly name: TierName;
  readonly summary: string;
  /** What web-arm can do on this tier with this config (pure; known before anything starts). */
  capabilities(config: LabConfig): Capabilities;
  /** The architecture web-arm's containers run (Debian's name), for the node image. */
  webArmArch(config: LabConfig, hostArch: string): string;
  /** What this machine lacks for the tier: a typed error naming the fix. Creates nothing. */
  prerequisites(config: LabConfig): Promise<P>;
  /** Work begun while the router and hosts start (netns: the shared image store). */
  begin?(plan: LabPlan, image: WebArmImage, progress: Progress): EarlyWork;
  /** Boots (or restores) web-arm as production runs it before the change: base system running. */
  start(request: StartRequest<P>, early: EarlyWork): Promise<WebArm>;
  /** The started web-arm of a lab that is up, from its record (another process's `lab up`). */
  attach(plan: LabPlan, state: LabState): WebArm;
  /** Removes what this tier made for the lab, found by its marks. Idempotent. */
  destroy(plan: LabPlan, state: LabState | undefined): Promise<string[]>;
  /** The line `lab status` prints about how web-arm came up, when the tier has one. */
  describeStart?(state: LabState): string | undefined;
  /** Its snapshots, where the tier can save and restore web-arm. */
  readonly snapshots?: SnapshotAbility;
  /** Forks of web-arm, where a snapshot restores one in seconds. */
  readonly forks?: ForkAbility;
  /** web-arm saved with the design applied, where the tier can (qemu). */
  readonly appliedSnapshots?: AppliedSnapshotAbility;
}

