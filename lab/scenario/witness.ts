/**
 * Negative proofs by witness, not by timeout: a probe that must get no answer runs while two
 * passive captures (tcpdump in the lab's own namespaces: the router's side of web-arm's uplink,
 * web-arm's namespace bridge on the netns tier; nothing is added to web-arm's firewall) watch
 * where its packet enters and where it would leave. Seen entering and not seen leaving within a
 * short bound after that: dropped, and the probe is stopped then instead of waiting out its own
 * timeout (not a probe in a guest that runs one command at a time: a stop would cost what it
 * saves; that one is watched and ends by itself). Seen leaving, or never seen entering, or a point that cannot be watched on this tier:
 * the probe's own timeout decides, as without a witness, and the evidence says so. The verdict
 * is the probe's expectation either way; both pcaps are the check's attachments.
 */
import { randomUUID } from 'node:crypto';
import { relative } from 'node:path';
import { LabBrokenError } from '../errors.ts';
import type { RunResult } from '../exec.ts';
import { hasNamespace, type Machine } from '../nodes/machine.ts';
import { waitUntil } from '../wait.ts';
import { stopCapture, tcpdumpText, type RunningCapture } from './capture.ts';
import { parseTimedLines, type TimedPacket } from './pcapText.ts';
import { judgeResult, type Expectation, type PendingCheck, type ScenarioRun } from './recorder.ts';
import { decideWitness, describeWitness, DEFAULT_WITNESS_BOUND_MS, type PassageMatch, type WitnessVerdict } from './witnessVerdict.ts';

/** Where a capture runs: an interface of a lab node whose namespace is on this machine. */
export interface WitnessPoint {
  node: string;
  iface: string;
  /** tcpdump's filter (keeps the pcap to the probe's own traffic). */
  filter: string[];
  /** In words, for the evidence ("the router's side of web-arm's uplink"). */
  where: string;
}

/** A point this tier cannot watch (a VM's inside), and why. */
export interface UnwatchedPoint {
  unavailable: string;
}

export interface WitnessSpec extends PassageMatch {
  entry: WitnessPoint | UnwatchedPoint;
  exit: WitnessPoint | UnwatchedPoint;
  boundMs?: number;
}

/** The probe: `command` runs on `machine` through `exec` (e.g. `podman exec probe`), and can be stopped. */
export interface StoppableProbe {
  machine: Machine;
  exec?: string;
  command: string;
}

/** The router's side of web-arm's uplink: every packet between web-arm and the internet passes it, on every tier. */
export function routerSideOfUplink(t: ScenarioRun, filter: string[]): WitnessPoint {
  return { node: 'upstream', iface: t.lab.plan.upstream.toWebArmIf, filter, where: "the router's side of web-arm's uplink" };
}

/**
 * web-arm's bridge of a podman network, where its containers' packets enter and leave the host:
 * watchable where web-arm is a namespace of this machine (netns); in a VM it is not, and the
 * guest has no tcpdump.
 */
export async function webArmBridge(t: ScenarioRun, network: string, filter: string[]): Promise<WitnessPoint | UnwatchedPoint> {
  if (!hasNamespace(t.lab.webArm)) return { unavailable: `web-arm's bridge of ${network} is inside a VM here (no namespace of this machine, no tcpdump in the guest)` };
  const iface = (await t.lab.webArm.execute(`podman network inspect ${network} --format '{{.NetworkInterface}}'`)).stdout.trim();
  if (!iface) return { unavailable: `podman names no bridge for ${network}` };
  return { node: t.lab.webArm.name, iface, filter, where: `web-arm's bridge of ${network}` };
}

/** How much later than a packet's capture time its row is surely in the pcap (immediate mode, -U). */
const WRITE_MARGIN_MS = 100;

export function isWatched(point: WitnessPoint | UnwatchedPoint): point is WitnessPoint {
  return !('unavailable' in point);
}

async function readTimed(file: string): Promise<TimedPacket[]> {
  return parseTimedLines(await tcpdumpText(file, { times: true }));
}

function shown(probe: StoppableProbe): string {
  return [probe.exec, probe.command].filter(Boolean).join(' ');
}

/**
 * The probe wrapped so it can be stopped by pid: started in the background, its pid in a file
 * that is removed when it ends however it ends; the exit status is the probe's. Stopped with
 * SIGKILL (dig ends with status 0 on SIGTERM, as if it had been answered), after a marker that
 * makes the wrapper end with 143 and say so: 137 is what the qemu tier's guest agent reads as
 * its own timeout (coreutils `timeout -k`).
 */
export function stoppable(probe: StoppableProbe, pidFile: string): { start: string; stop: string } {
  if (probe.command.includes("'")) throw new LabBrokenError(`a witnessed probe cannot hold single quotes: ${probe.command}`);
  const prefix = probe.exec ? `${probe.exec} ` : '';
  const marker = `${pidFile}.stop`;
  return {
    start: `${prefix}sh -c '${probe.command} & echo $! > ${pidFile}; wait $!; s=$?; if [ -e ${marker} ]; then s=143; echo "stopped by the drop witness" >&2; fi; rm -f ${pidFile} ${marker}; exit $s'`,
    stop: `${prefix}sh -c 'touch ${marker}; kill -KILL $(cat ${pidFile} 2>/dev/null) 2>/dev/null; true'`,
  };
}

interface Outcome {
  result: RunResult;
  verdict: WitnessVerdict;
  /** The probe was stopped on the witness's word (before its own timeout). */
  stopped: boolean;
  /** Why a witnessed drop did not stop the probe, if it did not. */
  notStopped?: string;
  seconds: string;
  /** Seconds from the probe's start to its packet seen entering. */
  enteredAfter?: string;
  files: string[];
  command: string;
}

async function witnessed(t: ScenarioRun, slug: string, probe: StoppableProbe, spec: WitnessSpec, entry: WitnessPoint, exit: WitnessPoint): Promise<Outcome> {
  const stamp = Date.now();
  const file = (p: WitnessPoint, role: string) => `${t.attachmentDir}/${slug}-${role}-${p.node}-${p.iface}-${stamp}.pcap`;
  const same = entry.node === exit.node && entry.iface === exit.iface && entry.filter.join(' ') === exit.filter.join(' ');
  const starting = await Promise.allSettled([
    t.lab.capture(entry.node, entry.iface, file(entry, same ? 'entry-exit' : 'entry'), entry.filter),
    ...(same ? [] : [t.lab.capture(exit.node, exit.iface, file(exit, 'exit'), exit.filter)]),
  ]);
  const captures = starting.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = starting.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.allSettled(captures.map((c) => stopCapture(c)));
    throw failed.reason;
  }
  const [entryCapture, exitCapture = entryCapture] = captures as [RunningCapture, RunningCapture?];
  const bound = spec.boundMs ?? DEFAULT_WITNESS_BOUND_MS;
  const pidFile = `/tmp/v6lab-witness-${randomUUID().slice(0, 8)}.pid`;
  const wrapped = stoppable(probe, pidFile);
  // A stop is one more command on the probe's machine: on a web-arm that runs one command at a
  // time (a VM's guest agent; under TCG a podman exec takes seconds) it would cost what it saves,
  // so there the witness only watches and the probe ends by itself.
  const stoppableHere = probe.machine !== t.lab.webArm || t.lab.capabilities.concurrentCommands;
  const started = performance.now();
  const startedAt = Date.now() / 1000;
  let finishedAt: number | undefined;
  const running = probe.machine.execute(stoppableHere ? wrapped.start : shown(probe), { timeoutMs: 60_000 });
  void running.then(() => (finishedAt = Date.now() / 1000), () => (finishedAt = Date.now() / 1000));
  let decidedAt = 0;
  const decide = async (until: number) => {
    const entryRows = await readTimed(entryCapture!.file);
    // The exit is read only once the packet has entered (fewer tcpdump runs while waiting for it).
    const exitRows = entryRows.some(spec.entered) ? (exitCapture === entryCapture ? entryRows : await readTimed(exitCapture!.file)) : [];
    return decideWitness(entryRows, exitRows, spec, until, bound);
  };
  // Watched until the probe ends by itself or the witness has its answer.
  const live = await waitUntil(
    `the witness of "${shown(probe)}"`,
    async () => {
      if (finishedAt !== undefined) return 'ended' as const;
      decidedAt = Date.now() / 1000 - WRITE_MARGIN_MS / 1000;
      const v = await decide(decidedAt);
      return v.kind === 'dropped' || v.kind === 'forwarded' ? v : undefined;
    },
    { timeoutMs: 70_000, intervalMs: 50 },
  );
  const stopped = stoppableHere && live !== 'ended' && live.kind === 'dropped' && finishedAt === undefined;
  if (stopped) await probe.machine.execute(wrapped.stop, { timeoutMs: 30_000 });
  // Decided or ended: the captures stop while the probe's end is awaited.
  const capturesStopped = Promise.all(captures.map((c) => stopCapture(c)));
  const result = await running;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  await capturesStopped;
  // The verdict again from the whole pcaps, over what was watched when it was taken (or until the
  // probe ended, when that came first): the captures stopped right after.
  const verdict = await decide(live === 'ended' ? (finishedAt ?? Date.now() / 1000) : decidedAt);
  return {
    result,
    verdict,
    stopped,
    ...(stoppableHere ? {} : { notStopped: "not stopped: one more command in web-arm's guest costs what it saves" }),
    seconds,
    enteredAfter: verdict.kind === 'not-seen' ? undefined : (verdict.entered.at - startedAt).toFixed(1),
    files: captures.map((c) => c.file),
    command: `${shown(probe)}; meanwhile tcpdump -i ${entry.iface} on ${entry.node}${same ? '' : ` and -i ${exit.iface} on ${exit.node}`} → ${captures.map((c) => relative(process.cwd(), c.file)).join(', ')}`,
  };
}

/**
 * Starts a probe that must get no answer, under a drop witness; `record()` turns it into one
 * piece of evidence like a check (in the story's order), with both pcaps attached. Stopped on a
 * witnessed drop, the probe's result is that of a probe that got no answer; the witness having
 * seen the packet leave after all fails the check.
 */
export function startWitnessedDrop(t: ScenarioRun, check: string, probe: StoppableProbe, expect: Expectation, spec: WitnessSpec): PendingCheck {
  const slug = check.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 48);
  const { entry, exit } = spec;
  const pending: Promise<{ result: RunResult; command: string; note: string; files: string[]; contradicted: boolean }> = (async () => {
    if (!isWatched(entry) || !isWatched(exit)) {
      const why = [entry, exit].filter((p): p is UnwatchedPoint => !isWatched(p)).map((p) => p.unavailable).join('; ');
      const result = await probe.machine.execute(shown(probe), { timeoutMs: 60_000 });
      return { result, command: shown(probe), note: `no drop witness on this tier (${why}): the probe's own result decided (its failure or its timeout), as without a witness`, files: [], contradicted: false };
    }
    const o = await witnessed(t, slug, probe, spec, entry, exit);
    const sameLink = exit.node === entry.node && exit.iface === entry.iface;
    const words = describeWitness(o.verdict, `${entry.where} (${entry.node} ${entry.iface})`, sameLink ? 'that link' : `${exit.where} (${exit.node} ${exit.iface})`);
    const when = o.enteredAfter === undefined ? '' : ` (its packet entered ${o.enteredAfter} s after it started)`;
    const note = `${words}; the probe ${o.stopped ? 'was stopped' : `ended by itself${o.notStopped && o.verdict.kind === 'dropped' ? ` (${o.notStopped})` : ''}`} after ${o.seconds} s${when}`;
    return { result: o.result, command: o.command, note, files: o.files, contradicted: o.stopped && o.verdict.kind !== 'dropped' };
  })();
  pending.catch(() => undefined);
  return {
    done: pending,
    record: async () => {
      const p = await pending;
      const judged = judgeResult(expect, p.result);
      const ok = judged.ok && !p.contradicted;
      t.observe(check, probe.machine.name, p.command, expect.expected, `${judged.seen} — witness: ${p.note}`, ok, p.files.length ? p.files : undefined);
      return judged.stdout;
    },
  };
}

/** startWitnessedDrop and record it at once. */
export async function checkWitnessedDrop(t: ScenarioRun, check: string, probe: StoppableProbe, expect: Expectation, spec: WitnessSpec): Promise<string> {
  return startWitnessedDrop(t, check, probe, expect, spec).record();
}
