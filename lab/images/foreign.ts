/**
 * Building a guest of another architecture (arm64 on this amd64 machine) without touching the
 * machine's binfmt_misc: the build runs in a user namespace of its own (with mount and pid
 * namespaces) that mounts a private binfmt_misc instance (Linux >= 6.7 ties an instance to the
 * user namespace that mounts it; lookups walk up from the caller's user namespace) and
 * registers qemu-user-static's interpreter there. Only processes inside see the registration;
 * it disappears with the namespace when the build's last process exits, and the pid namespace
 * makes sure that is when the build ends (killing its pid 1 kills everything in it).
 *
 * Pure: the registration is parsed and the wrapper's argv rendered here; image.ts runs it.
 */
import { HostError } from '../errors.ts';
import type { ImageArch as GuestArch } from './arch.ts';

/** QEMU's names for the guest architectures (qemu-system-<name>, qemu-<name>-static). */
export const QEMU_ARCH: Record<GuestArch, string> = { amd64: 'x86_64', arm64: 'aarch64' };

/** The Debian architecture of this machine (Node's process.arch), if it is one of the guests'. */
export function hostArch(nodeArch: string = process.arch): GuestArch | undefined {
  if (nodeArch === 'x64') return 'amd64';
  if (nodeArch === 'arm64') return 'arm64';
  return undefined;
}

/** Whether building or running a guest of `arch` here needs emulation. */
export function isForeign(arch: GuestArch, host: GuestArch | undefined = hostArch()): boolean {
  return arch !== host;
}

/** qemu-user-static's registration for systemd-binfmt, one `:name:type:offset:magic:mask:interpreter:flags` line. */
export function binfmtConfPath(arch: GuestArch): string {
  return `/usr/lib/binfmt.d/qemu-${QEMU_ARCH[arch]}.conf`;
}

export interface BinfmtRegistration {
  name: string;
  interpreter: string;
  flags: string;
  /** The line written to binfmt_misc's register file. */
  line: string;
}

/**
 * The registration line of a binfmt.d file. It must carry the F flag: the kernel then opens the
 * interpreter when it is registered (outside the chroot), so the chroot needs no copy of it.
 */
export function parseBinfmtRegistration(text: string, source = 'binfmt.d file'): BinfmtRegistration {
  const line = text.split('\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#'));
  if (!line) throw new HostError(`${source} holds no binfmt_misc registration`);
  const delimiter = line[0]!;
  const fields = line.slice(1).split(delimiter);
  // name, type, offset, magic, mask, interpreter, flags
  if (fields.length !== 7) throw new HostError(`${source}: not a binfmt_misc registration (${fields.length} fields): ${line}`);
  const [name, type, , , , interpreter, flags] = fields as [string, string, string, string, string, string, string];
  if (!/^[\w.+-]+$/.test(name) || (type !== 'M' && type !== 'E') || !interpreter.startsWith('/')) {
    throw new HostError(`${source}: not a binfmt_misc registration: ${line}`);
  }
  if (!flags.includes('F')) {
    throw new HostError(`${source}: the registration lacks the F flag (the interpreter would be looked up inside the chroot): ${line}`);
  }
  return { name, interpreter, flags, line };
}

/** uids and gids 0..65535 map to themselves: files keep their real owners, as with real root. */
export const FOREIGN_ID_RANGE = 65536;

/**
 * The inner stages run as pid 1 of the new pid namespace (with a /proc of its own).
 *
 * Stage 1 waits for its uid/gid maps (written from outside), then execs stage 2: unshare's child
 * may have exec'd stage 1 before uid 0 was mapped, which drops every capability; an exec by
 * uid 0 once it is mapped gets them back (in the new user namespace only). Gives up after 10 s.
 *
 * Stage 2 mounts the private binfmt_misc, registers the interpreter and execs the command.
 */
const STAGE1_WAIT_FOR_MAPS =
  'i=0; until grep -q . /proc/self/uid_map; do i=$((i+1)); [ "$i" -lt 500 ] || exit 70; sleep 0.02; done; stage2=$1; shift; exec sh -c "$stage2" v6lab-foreign "$@"';
const STAGE2_REGISTER_AND_RUN =
  "set -e; mount -t binfmt_misc v6lab-binfmt /proc/sys/fs/binfmt_misc; printf '%s' \"$1\" > /proc/sys/fs/binfmt_misc/register; shift; exec \"$@\"";

/**
 * The outer half runs where the caller runs: it starts stage 1 in new user, mount and pid
 * namespaces, writes identity uid/gid maps for them (a range needs a privileged writer outside;
 * unshare's own --map-users would need newuidmap and entries in /etc/subuid), and waits. On
 * TERM/INT/HUP (a timeout, Ctrl-C) it kills the namespace's pid 1, which ends every process in
 * it (unshare's --kill-child did not: the child it marks execs on, and its mark is gone).
 */
const OUTER_SCRIPT = `registration=$1; stage1=$2; stage2=$3; shift 3
unshare --user --mount --propagation private --pid --fork --mount-proc -- sh -c "$stage1" v6lab-foreign "$stage2" "$registration" "$@" &
child=$!
stop() {
  for init in $(cat "/proc/$child/task/$child/children" 2>/dev/null); do kill -KILL "$init" 2>/dev/null; done
  kill -TERM "$child" 2>/dev/null
}
trap stop TERM INT HUP
self=$(readlink /proc/self/ns/user)
while [ "$(readlink "/proc/$child/ns/user" 2>/dev/null)" = "$self" ]; do sleep 0.01; done
{ echo "0 0 ${FOREIGN_ID_RANGE}" > "/proc/$child/uid_map" && echo "0 0 ${FOREIGN_ID_RANGE}" > "/proc/$child/gid_map"; } || stop
wait "$child"
`;

/** argv running `argv` with the foreign architecture's interpreter registered privately. */
export function foreignArchArgv(registration: BinfmtRegistration, argv: readonly string[]): string[] {
  return ['sh', '-c', OUTER_SCRIPT, 'v6lab-foreign-build', registration.line, STAGE1_WAIT_FOR_MAPS, STAGE2_REGISTER_AND_RUN, ...argv];
}
