/**
 * A "clean web-arm" snapshot of the qemu tier, the pure part: what makes two booted guests the
 * same (the key), where a snapshot's files are, and its meta.json. A snapshot is web-arm right
 * after its base system was installed and started, saved by migrating the paused VM to a file
 * (state.bin) with a copy of its disk overlay at that moment (disk.qcow2, backed by the image's
 * read-only base); a new lab starts QEMU with `-incoming` on it instead of booting.
 *
 * The key is a hash of everything the saved state depends on: the guest image, the base system
 * installed in it (units and files, as rendered, and dockerd on or off), the architecture and accelerator, QEMU's
 * version and the machine's command line with every path and name of one VM replaced by a
 * placeholder (memory, CPU, devices, MAC). The lab's name is not in it: labs differ only in
 * their namespaces, and the guest's wire (tap, MACs, addresses) is the same in every lab.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { type Accel, qemuArgv, vmSpec } from './argv.ts';
import type { GuestArch } from './recipe.ts';

/** Bump when what a snapshot holds or how it is taken changes without the inputs changing. */
export const SNAPSHOT_FORMAT = 1;

export const SNAPSHOT_FILES = { state: 'state.bin', disk: 'disk.qcow2', meta: 'meta.json', baselines: 'baselines.json' } as const;

export interface SnapshotKeyInputs {
  imageHash: string;
  arch: GuestArch;
  accel: Accel;
  /** `qemu-system-… --version`, first line: a saved state loads only into the same QEMU. */
  qemuVersion: string;
  memoryMiB: number;
  /** web-arm's MAC (its NIC's, part of the machine). */
  mac: string;
  /** The base system as installed: unit name → rendered unit, path → content. */
  baseUnits: Record<string, string>;
  baseFiles: Record<string, string>;
  /** What the base install sets beyond units and files (e.g. dockerd: "on" or "off"). */
  baseSettings: Record<string, string>;
}

/** The machine's command line with one VM's paths and names replaced by placeholders. */
export function snapshotMachineArgv(arch: GuestArch, accel: Accel, memoryMiB: number, mac: string): string[] {
  return qemuArgv(
    arch,
    vmSpec({
      name: '<name>',
      processName: '<process>',
      arch,
      accel,
      memoryMiB,
      kernel: '<kernel>',
      initrd: '<initrd>',
      runDir: '<run>',
      tap: '<tap>',
      mac,
      consoleLog: '<console>',
    }),
  );
}

function sorted(record: Record<string, string>): Array<[string, string]> {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The snapshot key: 16 hex digits of a SHA-256 over the inputs in a fixed order. Pure. */
export function snapshotKey(inputs: SnapshotKeyInputs): string {
  const canonical = JSON.stringify({
    format: SNAPSHOT_FORMAT,
    imageHash: inputs.imageHash,
    arch: inputs.arch,
    accel: inputs.accel,
    qemuVersion: inputs.qemuVersion,
    machine: snapshotMachineArgv(inputs.arch, inputs.accel, inputs.memoryMiB, inputs.mac),
    baseUnits: sorted(inputs.baseUnits),
    baseFiles: sorted(inputs.baseFiles),
    baseSettings: sorted(inputs.baseSettings),
  });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/**
 * The key of a design-applied snapshot: the clean web-arm's key (image, base system, machine)
 * and the designed system's fingerprint (rendered base + design, parameters, baselines). Pure.
 */
export function appliedSnapshotKey(cleanKey: string, fingerprint: string): string {
  return createHash('sha256').update(JSON.stringify({ format: SNAPSHOT_FORMAT, kind: 'design-applied', cleanKey, fingerprint })).digest('hex').slice(0, 16);
}

export interface SnapshotPaths {
  dir: string;
  state: string;
  disk: string;
  meta: string;
  baselines: string;
}

export function snapshotPaths(root: string, key: string): SnapshotPaths {
  const dir = join(root, key);
  return { dir, state: join(dir, SNAPSHOT_FILES.state), disk: join(dir, SNAPSHOT_FILES.disk), meta: join(dir, SNAPSHOT_FILES.meta), baselines: join(dir, SNAPSHOT_FILES.baselines) };
}

/** What a snapshot is, in words (`lab snapshot list`). Pure. */
export function snapshotKind(meta: Pick<SnapshotMeta, 'design'>): string {
  return meta.design
    ? `design applied: ${meta.design.name} ${meta.design.params} (web-arm with the design running, on clean web-arm ${meta.design.cleanKey})`
    : 'clean web-arm: the Debian guest with its base system running, no design applied';
}

/** Where a snapshot is written before it is renamed into place (per process, never read by others). */
export function partialSnapshotDir(root: string, key: string, pid: number): string {
  return join(root, `.${key}.partial-${pid}`);
}

/** The pid of the process writing a partial snapshot directory (its name), or undefined. */
export function partialSnapshotPid(name: string): number | undefined {
  const m = /^\.[0-9a-f]+\.(?:partial|discarded)-(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

const metaSchema = z
  .object({
    schema: z.literal('v6lab.qemu-snapshot/1'),
    key: z.string().regex(/^[0-9a-f]{16}$/),
    savedAt: z.string(),
    /** The lab whose guest was saved. */
    savedBy: z.string(),
    imageHash: z.string(),
    arch: z.enum(['amd64', 'arm64']),
    accel: z.enum(['kvm', 'tcg']),
    qemuVersion: z.string(),
    memoryMiB: z.number().int().positive(),
    stateBytes: z.number().int().positive(),
    diskBytes: z.number().int().positive(),
    /** How long the guest was paused for the save (stop to cont), and its parts. */
    saveMs: z.number().int().nonnegative(),
    migrateMs: z.number().int().nonnegative(),
    diskCopyMs: z.number().int().nonnegative(),
    /** The cold boot of the saved guest (QEMU start to multi-user.target). */
    bootToReadyMs: z.number().int().nonnegative().optional(),
    /**
     * A design-applied snapshot (absent: the clean web-arm): the design and parameters applied,
     * the clean web-arm's key it builds on, the units active at the save (a restore checks
     * them again), and the baseline files saved beside it (baselines.json).
     */
    design: z
      .object({
        name: z.string(),
        params: z.string(),
        fingerprint: z.string(),
        cleanKey: z.string(),
        activeUnits: z.array(z.string()),
        baselines: z.array(z.string()),
      })
      .strict()
      .optional(),
  })
  .strict();

export type SnapshotMeta = z.infer<typeof metaSchema>;

export type MetaReading = { ok: true; meta: SnapshotMeta } | { ok: false; why: string };

/** Reads meta.json; a snapshot whose meta is unreadable or of another key is not used. Pure. */
export function parseSnapshotMeta(text: string, key: string): MetaReading {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, why: `meta.json is not JSON (${(error as Error).message})` };
  }
  const parsed = metaSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, why: `meta.json: ${issue ? `${issue.path.join('.') || '(top)'}: ${issue.message}` : 'invalid'}` };
  }
  if (parsed.data.key !== key) return { ok: false, why: `meta.json is of snapshot ${parsed.data.key}, not ${key}` };
  return { ok: true, meta: parsed.data };
}

export function renderSnapshotMeta(meta: SnapshotMeta): string {
  return `${JSON.stringify(meta, null, 2)}\n`;
}

/** Whether the files on disk are those the meta describes (sizes), e.g. not truncated. Pure. */
export function snapshotFilesMatch(meta: SnapshotMeta, sizes: { state?: number; disk?: number }): string | undefined {
  if (sizes.state === undefined) return 'state.bin is missing';
  if (sizes.disk === undefined) return 'disk.qcow2 is missing';
  if (sizes.state !== meta.stateBytes) return `state.bin has ${sizes.state} bytes, meta.json says ${meta.stateBytes}`;
  if (sizes.disk !== meta.diskBytes) return `disk.qcow2 has ${sizes.disk} bytes, meta.json says ${meta.diskBytes}`;
  return undefined;
}
