/**
 * The design-applied snapshot's pure parts: the designed system's fingerprint (what makes two
 * applied systems the same, and nothing else), its key on top of the clean web-arm's, meta.json
 * with a design, what `lab snapshot list` calls it, and how the lab shows the start.
 */
import { describe, expect, it } from 'vitest';
import { parseCommon } from '../../lab/cli/options.ts';
import { designedSystem, designParamsLine } from '../../lab/lifecycle/designed.ts';
import type { BaselineRef } from '../../lab/scenario/baselineTypes.ts';
import { describeGuestStart, type GuestRecord } from '../../lab/state/store.ts';
import { appliedSnapshotKey, parseSnapshotMeta, renderSnapshotMeta, snapshotKind, snapshotPaths, type SnapshotMeta } from '../../lab/tiers/qemu/snapshot.ts';
import { debianWebArm } from '../../lab/tiers/qemu/webArmSystem.ts';
import { defaultConfig, type LabConfig } from '../../lab/topology/config.ts';
import { planLab } from '../../lab/topology/plan.ts';
import { validateConfig } from '../../lab/topology/validate.ts';

const baselines: BaselineRef[] = [
  { kind: 'host', moment: 'at-up' },
  { kind: 'workload', moment: 'after-first-container' },
];

function config(patch: (c: LabConfig) => LabConfig = (c) => c): LabConfig {
  const d = defaultConfig();
  return validateConfig(patch({ ...d, lab: { ...d.lab, tier: 'qemu' } }));
}

function designed(c: LabConfig, refs = baselines, image = 'localhost/v6lab-node:abc') {
  return designedSystem(debianWebArm(planLab(c)), c, image, refs);
}

describe('designed system', () => {
  it('is the same for every lab name, state dir and snapshot switch', () => {
    const a = designed(config());
    const b = designed(config((c) => ({ ...c, lab: { ...c.lab, name: 'other1', stateDir: '/tmp/x', designSnapshot: false } })));
    expect(a).toEqual(b);
    expect(a.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(a).toMatchObject({ design: 'v6egress', params: '{}' });
  });

  it('changes with the design, its parameters, the node image, the baselines taken and the variant', () => {
    const base = designed(config()).fingerprint;
    expect(designed(config((c) => ({ ...c, design: { name: 'routed-subprefix', params: {} } }))).fingerprint).not.toBe(base);
    expect(designed(config(), baselines, 'localhost/v6lab-node:def').fingerprint).not.toBe(base);
    expect(designed(config(), [...baselines, { kind: 'mail', moment: 'at-up' }]).fingerprint).not.toBe(base);
    // The same baselines in another order (or twice) are the same.
    expect(designed(config(), [baselines[1]!, baselines[0]!, baselines[0]!]).fingerprint).toBe(base);
    const v6only = config((c) => ({ ...c, topology: { ...c.topology, ipv4: false } }));
    expect(designParamsLine(v6only)).toBe('{} (IPv6-only)');
    expect(designed(v6only).fingerprint).not.toBe(base);
  });
});

describe('design-applied snapshot', () => {
  it('has a key of its own on top of the clean one', () => {
    const k = appliedSnapshotKey('0123456789abcdef', 'aaaaaaaaaaaaaaaa');
    expect(k).toMatch(/^[0-9a-f]{16}$/);
    expect(k).not.toBe('0123456789abcdef');
    expect(appliedSnapshotKey('0123456789abcdef', 'aaaaaaaaaaaaaaab')).not.toBe(k);
    expect(appliedSnapshotKey('0123456789abcdee', 'aaaaaaaaaaaaaaaa')).not.toBe(k);
  });

  const meta: SnapshotMeta = {
    schema: 'v6lab.qemu-snapshot/1',
    key: 'fedcba9876543210',
    savedAt: '2026-12-06T10:00:00.000Z',
    savedBy: 'h19cq',
    imageHash: '4d4e6ddd3869',
    arch: 'amd64',
    accel: 'tcg',
    qemuVersion: 'QEMU emulator version 7.2.19',
    memoryMiB: 1024,
    stateBytes: 500_000_000,
    diskBytes: 30_000_000,
    saveMs: 1500,
    migrateMs: 1200,
    diskCopyMs: 100,
    design: {
      name: 'v6egress',
      params: '{}',
      fingerprint: 'aaaaaaaaaaaaaaaa',
      cleanKey: '0123456789abcdef',
      activeUnits: ['v6egress-network.service', 'podman-v6probe.service'],
      baselines: ['before-apply.json'],
    },
  };

  it('keeps its design in meta.json; a clean meta.json (without one) still reads', () => {
    expect(parseSnapshotMeta(renderSnapshotMeta(meta), meta.key)).toEqual({ ok: true, meta });
    const { design: _design, ...clean } = meta;
    expect(parseSnapshotMeta(renderSnapshotMeta(clean), meta.key)).toEqual({ ok: true, meta: clean });
    expect(snapshotPaths('/c', meta.key).baselines).toBe('/c/fedcba9876543210/baselines.json');
  });

  it('says what it is in lab snapshot list', () => {
    expect(snapshotKind(meta)).toBe('design applied: v6egress {} (web-arm with the design running, on clean web-arm 0123456789abcdef)');
    expect(snapshotKind({})).toMatch(/^clean web-arm/);
  });

  it('shows the start as a restore with the design applied, and the save', () => {
    const record: GuestRecord = { arch: 'x86_64', accel: 'tcg', accelWhy: 'x', imageHash: 'h', kernelVersion: 'k', start: 'restore', restoreMs: 7_400, snapshot: { key: 'c', savedAt: '', stateBytes: 1 } };
    expect(describeGuestStart({ ...record, designApplied: { key: 'fedcba9876543210', design: 'v6egress', params: '{}', savedAt: '', savedBy: 'x' } })).toBe(
      'restored with design v6egress applied from snapshot fedcba9876543210 in 7.4 s',
    );
    expect(describeGuestStart({ ...record, appliedSnapshot: { key: 'fedcba9876543210', saveMs: 1_500 } })).toBe(
      'restored from snapshot c in 7.4 s, design-applied snapshot fedcba9876543210 saved in 1.5 s',
    );
  });

  it('--no-design-snapshot on lab up is lab.designSnapshot=false', () => {
    const up = (args: string[]) => parseCommon(args, { 'no-design-snapshot': { type: 'boolean' } }).config.lab.designSnapshot;
    expect(up([])).toBe(true);
    expect(up(['--no-design-snapshot'])).toBe(false);
    expect(up(['--set', 'lab.designSnapshot=false'])).toBe(false);
  });
});
