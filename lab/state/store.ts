/**
 * What a running lab owns, on disk (under its runtime directory), so `down`, `test` and the
 * inspection verbs work from any process, also after a crash.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LabStateError } from '../errors.ts';
import type { DesignPlan } from '../designs/design.ts';
import type { Tier } from '../report/model.ts';
import { withConfigDefaults, type LabConfig } from '../topology/config.ts';
import { runtimeRootFor } from '../topology/plan.ts';
import { labNotUpMessage } from './notUp.ts';

export interface ContainerRecord {
  node: string;
  containerName: string;
  id: string;
  pid: number;
  netnsName: string;
}

export interface LabState {
  schema: 'v6lab.state/1';
  name: string;
  tier: Tier;
  phase: 'creating' | 'up';
  createdAt: string;
  config: LabConfig;
  engine?: { description: string; kind: string; socketPath: string };
  /** The node image web-arm's podman runs (built for web-arm's architecture: a guest's may differ from this machine's). */
  image?: NodeImageRecord;
  /** The node image of the router and internet containers on this machine (its architecture). */
  hostImage?: NodeImageRecord;
  containers: ContainerRecord[];
  design?: { name: string; appliedAt: string; plan: DesignPlan };
  /** Why podman runs with non-default settings here (runc, cgroupfs, …). */
  podmanSettings: string[];
  /** Number of reboots of web-arm since up (emulated on netns, real on qemu). */
  boots: number;
  /** The qemu tier's guest: what it booted from and how. */
  guest?: GuestRecord;
  /** The vagrant tier: the box and provider the VM was made with (the Vagrantfile needs them for every command). */
  vagrant?: { box: string; provider: 'libvirt' | 'qemu' };
  /** The qemu tier's NixOS guest: the nixpkgs its system is built from (every switch builds again). */
  nixos?: { nixpkgs: { flakeRef: string; from: 'V6LAB_NIXPKGS' | 'NIX_PATH' } };
  /** Forks of this lab a `lab test --parallel` run has up (labs of their own): `lab down` takes them down too, also after a crash. */
  forks?: string[];
}

export interface NodeImageRecord {
  tag: string;
  tarball: string;
  /** Debian's name; absent in states written before images were per architecture. */
  arch?: string;
}

export interface GuestRecord {
  arch: 'x86_64' | 'aarch64';
  accel: 'kvm' | 'tcg';
  accelWhy: string;
  imageHash: string;
  kernelVersion: string;
  /**
   * How web-arm came up: a cold boot, or a restore of the clean web-arm snapshot (the guest as
   * it was right after its base system started, saved by another lab). States written before
   * snapshots have none: a boot.
   */
  start: 'boot' | 'restore';
  /** A boot: QEMU start to multi-user.target, ms. */
  bootToReadyMs?: number;
  /** A restore: overlay and QEMU start to a verified web-arm (state loaded, clock set, base units active), ms. */
  restoreMs?: number;
  /** When this lab saved the snapshot: how long the guest was paused for it, ms. */
  snapshotSaveMs?: number;
  /** The snapshot restored or saved. */
  snapshot?: { key: string; savedAt: string; stateBytes: number };
  /** Why a restore was given up (web-arm then booted cold). */
  restoreFailed?: string;
  /**
   * A restore of a design-applied snapshot (web-arm came up with the design running, saved by a
   * lab that applied the same rendered system): its key, design and parameters.
   */
  designApplied?: { key: string; design: string; params: string; savedAt: string; savedBy: string };
  /** When this lab saved web-arm with the design applied: the key and how long the guest was paused, ms. */
  appliedSnapshot?: { key: string; saveMs: number };
}

/** "booted in 62 s", "restored from snapshot 1a2b… in 4.1 s", with the save when there was one. */
export function describeGuestStart(guest: GuestRecord): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const how =
    guest.start === 'restore' && guest.designApplied
      ? `restored with design ${guest.designApplied.design} applied from snapshot ${guest.designApplied.key} in ${s(guest.restoreMs ?? 0)}`
      : guest.start === 'restore'
      ? `restored from snapshot ${guest.snapshot?.key ?? '?'} in ${s(guest.restoreMs ?? 0)}`
      : `booted in ${s(guest.bootToReadyMs ?? 0)}${guest.restoreFailed ? ' (the restore failed)' : ''}`;
  const saved = guest.snapshotSaveMs !== undefined ? `${how}, snapshot ${guest.snapshot?.key ?? '?'} saved in ${s(guest.snapshotSaveMs)}` : how;
  return guest.appliedSnapshot ? `${saved}, design-applied snapshot ${guest.appliedSnapshot.key} saved in ${s(guest.appliedSnapshot.saveMs)}` : saved;
}

export function stateFile(name: string): string {
  return join(runtimeRootFor(name), 'state.json');
}

export function readState(name: string): LabState | undefined {
  const file = stateFile(name);
  if (!existsSync(file)) return undefined;
  const state = JSON.parse(readFileSync(file, 'utf8')) as LabState;
  // A lab brought up by an earlier version: the config fields added since take their defaults,
  // so `down` and the other verbs still read it.
  return state.config ? { ...state, config: withConfigDefaults(state.config) } : state;
}

export function requireUpState(name: string): LabState {
  const state = readState(name);
  if (!state || state.phase !== 'up') {
    throw new LabStateError(labNotUpMessage(name, state?.phase, labsUp()));
  }
  return state;
}

/** The names of the labs that are up on this machine (their state says so). */
export function labsUp(): string[] {
  const root = dirname(runtimeRootFor('main'));
  if (!existsSync(root)) return [];
  return readdirSync(root).filter((name) => {
    try {
      return readState(name)?.phase === 'up';
    } catch {
      return false; // a state file half written or not ours: not a lab that is up
    }
  });
}

export function writeState(state: LabState): void {
  const file = stateFile(state.name);
  mkdirSync(runtimeRootFor(state.name), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

export function updateState(name: string, change: (s: LabState) => void): LabState {
  const state = readState(name);
  if (!state) throw new LabStateError(`No state for lab "${name}"`);
  change(state);
  writeState(state);
  return state;
}
