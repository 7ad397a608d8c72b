/**
 * The QEMU command line of a web-arm guest. Pure: what the machine is (q35 or virt, TCG settings
 * that keep the guest sane here, one virtio NIC that the guest names enp1s0, the agent on a
 * virtio-serial socket, no other NIC) is decided here and unit-tested.
 */
import { shellQuote } from '../../shell.ts';
import type { GuestArch } from './recipe.ts';

export type Accel = 'kvm' | 'tcg';

export interface AccelChoice {
  accel: Accel;
  why: string;
}

/**
 * The accelerator when it is decided without probing KVM: a guest of another architecture than
 * the machine's always runs under TCG (KVM only runs the machine's own); V6LAB_QEMU_ACCEL
 * forces one; no /dev/kvm means TCG. Undefined: probe KVM (x86_64 only so far).
 */
export function accelWithoutProbe(guest: GuestArch, host: GuestArch | undefined, forced: string | undefined, hasKvm: boolean): AccelChoice | undefined {
  if (guest !== host) {
    return { accel: 'tcg', why: `${guest} guest on an ${host ?? 'unknown'} machine: always TCG (KVM runs only the machine's own architecture; no KVM probe)` };
  }
  if (forced === 'tcg' || forced === 'kvm') return { accel: forced, why: `V6LAB_QEMU_ACCEL=${forced}` };
  if (!hasKvm) return { accel: 'tcg', why: 'no /dev/kvm' };
  if (guest !== 'amd64') return { accel: 'tcg', why: `no KVM probe for ${guest} guests yet (V6LAB_QEMU_ACCEL=kvm forces KVM)` };
  return undefined;
}

export interface QemuVmSpec {
  /** The lab's mark on the process: `-name <name>,process=<processName>`. */
  name: string;
  processName: string;
  accel: Accel;
  memoryMiB: number;
  kernel: string;
  initrd: string;
  /** Kernel command line. */
  append: string;
  /** The guest's disk (a qcow2 overlay on the read-only base). */
  disk: string;
  /** The tap device (already created, in the namespace QEMU runs in). */
  tap: string;
  mac: string;
  agentSocket: string;
  qmpSocket: string;
  consoleLog: string;
  pidFile: string;
  /**
   * Start from a saved state instead of booting (`-incoming <uri>`, e.g. migrateFromFileUri):
   * QEMU loads the state and stays paused until QMP `cont`. Every other argument must be what
   * the saved VM ran with, but for paths and names.
   */
  incoming?: string;
}

/** web-arm's memory when nothing else is asked for. */
export const DEFAULT_GUEST_MEMORY_MIB = 1024;

/** The files of a VM in its run directory. */
export function vmRunFiles(runDir: string): { disk: string; agentSocket: string; qmpSocket: string; qemuLog: string; pidFile: string; consoleLog: string } {
  return {
    disk: `${runDir}/disk.qcow2`,
    agentSocket: `${runDir}/qga.sock`,
    qmpSocket: `${runDir}/qmp.sock`,
    qemuLog: `${runDir}/qemu.log`,
    pidFile: `${runDir}/qemu.pid`,
    consoleLog: `${runDir}/console.log`,
  };
}

export interface VmSpecInputs {
  name: string;
  processName: string;
  arch: GuestArch;
  accel: Accel;
  memoryMiB: number;
  kernel: string;
  initrd: string;
  runDir: string;
  tap: string;
  mac: string;
  /** Default: console.log in the run directory. */
  consoleLog?: string;
  incoming?: string;
}

/** A VM's spec from its names and files (every VM of the lab is made this way; the snapshot key too). */
export function vmSpec(v: VmSpecInputs): QemuVmSpec {
  const files = vmRunFiles(v.runDir);
  return {
    name: v.name,
    processName: v.processName,
    accel: v.accel,
    memoryMiB: v.memoryMiB,
    kernel: v.kernel,
    initrd: v.initrd,
    append: guestKernelAppend(v.arch),
    disk: files.disk,
    tap: v.tap,
    mac: v.mac,
    agentSocket: files.agentSocket,
    qmpSocket: files.qmpSocket,
    consoleLog: v.consoleLog ?? files.consoleLog,
    pidFile: files.pidFile,
    ...(v.incoming ? { incoming: v.incoming } : {}),
  };
}

/** The guest agent's virtio-serial port name (its udev rule starts the agent when it appears). */
export const AGENT_PORT_NAME = 'org.qemu.guest_agent.0';

/** The serial console the guest kernel writes to: the 16550 UART on x86, the PL011 on virt. */
export const GUEST_CONSOLE: Record<GuestArch, string> = { amd64: 'ttyS0', arm64: 'ttyAMA0' };

/**
 * The guest kernel's command line. `quiet` and `systemd.show_status=error`: under TCG every byte
 * to the serial console is an emulated UART write, and an unquiet boot writes the kernel's log and
 * systemd's status lines (a spinner redrawn twice a second while a job waits) to it; warnings,
 * errors and failed units still go there, and everything to the journal as before. The initrd
 * stays: Debian's cloud kernel has virtio-blk as a module (booted without it, the amd64 guest
 * panicked "VFS: Unable to mount root fs on unknown-block(0,0)").
 */
export function guestKernelAppend(arch: GuestArch, extra: readonly string[] = []): string {
  return ['root=/dev/vda', 'rw', `console=${GUEST_CONSOLE[arch]}`, 'panic=-1', 'quiet', 'systemd.show_status=error', ...extra].join(' ');
}

/**
 * The devices both machines share, all on the PCIe root bus: the disk, the NIC behind a root
 * port at 0x2 (the guest sees it on PCI bus 1, slot 0 → enp1s0), the agent's virtio-serial
 * port, a virtio RNG; QMP, the serial console to a file, the pid file.
 */
function sharedDevices(spec: QemuVmSpec, nic: string): string[] {
  return [
    '-kernel', spec.kernel,
    '-initrd', spec.initrd,
    '-append', spec.append,
    '-drive', `file=${spec.disk},if=none,id=disk0,format=qcow2,discard=unmap`,
    '-device', 'virtio-blk-pci,drive=disk0,bus=pcie.0,addr=0x3',
    '-device', 'pcie-root-port,id=rp1,bus=pcie.0,addr=0x2,chassis=1',
    '-netdev', `tap,id=uplink,ifname=${spec.tap},script=no,downscript=no`,
    '-device', nic,
    '-chardev', `socket,id=qga0,path=${spec.agentSocket},server=on,wait=off`,
    '-device', 'virtio-serial-pci,id=vser0,bus=pcie.0,addr=0x4',
    '-device', `virtserialport,bus=vser0.0,chardev=qga0,name=${AGENT_PORT_NAME}`,
    '-device', 'virtio-rng-pci,bus=pcie.0,addr=0x5',
    '-qmp', `unix:${spec.qmpSocket},server=on,wait=off`,
    '-serial', `file:${spec.consoleLog}`,
    '-pidfile', spec.pidFile,
    ...(spec.incoming ? ['-incoming', spec.incoming] : []),
  ];
}

/** A migration URI that writes a VM's state to a file (QEMU 7.2 has no `file:` URI; `exec:` runs /bin/sh -c). */
export function migrateToFileUri(file: string): string {
  return `exec:cat > ${shellQuote(file)}`;
}

/** The `-incoming` URI that loads a state written by migrateToFileUri. */
export function migrateFromFileUri(file: string): string {
  return `exec:cat ${shellQuote(file)}`;
}

export function qemuX86Argv(spec: QemuVmSpec): string[] {
  const accel =
    spec.accel === 'kvm'
      ? ['-accel', 'kvm', '-cpu', 'host']
      : // Measured here: with the defaults the guest corrupted memory under load.
        ['-accel', 'tcg,thread=single', '-cpu', 'max,-cx16'];
  return [
    'qemu-system-x86_64',
    '-name', `${spec.name},process=${spec.processName}`,
    '-M', 'q35',
    ...accel,
    '-m', String(spec.memoryMiB),
    '-smp', '1',
    // No default devices: above all no default NIC (user-mode networking would be a second route).
    '-nodefaults',
    '-display', 'none',
    '-vga', 'none',
    ...sharedDevices(spec, `virtio-net-pci,netdev=uplink,mac=${spec.mac},bus=rp1`),
  ];
}

/**
 * An aarch64 guest on the virt machine, always under TCG here (another architecture than the
 * machine's). MTTCG is sound on aarch64 (unlike x86 here), so two vCPUs on two threads;
 * pauth-impdef=on swaps the architected pointer-authentication algorithm (slow to emulate)
 * for QEMU's own. The NIC has no option ROM: direct kernel boot needs no firmware.
 */
export function qemuAarch64Argv(spec: QemuVmSpec): string[] {
  const accel = spec.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=multi', '-cpu', 'max,pauth-impdef=on'];
  return [
    'qemu-system-aarch64',
    '-name', `${spec.name},process=${spec.processName}`,
    '-M', 'virt',
    ...accel,
    '-m', String(spec.memoryMiB),
    '-smp', '2',
    // No default devices: above all no default NIC (user-mode networking would be a second route).
    '-nodefaults',
    '-display', 'none',
    ...sharedDevices(spec, `virtio-net-pci,netdev=uplink,mac=${spec.mac},bus=rp1,romfile=`),
  ];
}

/** The command line for a guest of the architecture. */
export function qemuArgv(arch: GuestArch, spec: QemuVmSpec): string[] {
  return arch === 'arm64' ? qemuAarch64Argv(spec) : qemuX86Argv(spec);
}

/**
 * A short boot of the guest kernel with KVM, no disk and no root: a working KVM prints the
 * kernel banner and panics within seconds (QEMU then exits, -no-reboot); a hanging one prints
 * nothing until the probe's timeout kills it.
 */
export function kvmProbeArgv(kernel: string, processName: string): string[] {
  return [
    'qemu-system-x86_64',
    '-name', `kvm-probe,process=${processName}`,
    '-M', 'q35', '-accel', 'kvm', '-cpu', 'host', '-m', '256',
    '-nodefaults', '-display', 'none', '-vga', 'none', '-no-reboot',
    '-serial', 'stdio',
    '-kernel', kernel,
    '-append', 'console=ttyS0 panic=-1 root=/dev/v6lab-kvm-probe-no-root',
  ];
}

/** Whether a KVM probe's console output shows a guest kernel that ran. */
export function kvmProbeWorked(output: string, exitedInTime: boolean): boolean {
  return exitedInTime && /Linux version/.test(output) && /Kernel panic|VFS: Unable to mount root/.test(output);
}
