/**
 * The QEMU command line of a web-arm guest. Pure: what the machine is (q35, TCG settings that
 * keep the guest sane here, one virtio NIC that the guest names enp1s0, the agent on a
 * virtio-serial socket, no other NIC) is decided here and unit-tested.
 */

export type Accel = 'kvm' | 'tcg';

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
}

/** The guest agent's virtio-serial port name (its udev rule starts the agent when it appears). */
export const AGENT_PORT_NAME = 'org.qemu.guest_agent.0';

export function guestKernelAppend(extra: readonly string[] = []): string {
  return ['root=/dev/vda', 'rw', 'console=ttyS0', 'panic=-1', ...extra].join(' ');
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
    '-kernel', spec.kernel,
    '-initrd', spec.initrd,
    '-append', spec.append,
    '-drive', `file=${spec.disk},if=none,id=disk0,format=qcow2,discard=unmap`,
    '-device', 'virtio-blk-pci,drive=disk0,bus=pcie.0,addr=0x3',
    // The NIC behind a root port at 0x2: the guest sees it on PCI bus 1, slot 0 → enp1s0.
    '-device', 'pcie-root-port,id=rp1,bus=pcie.0,addr=0x2,chassis=1',
    '-netdev', `tap,id=uplink,ifname=${spec.tap},script=no,downscript=no`,
    '-device', `virtio-net-pci,netdev=uplink,mac=${spec.mac},bus=rp1`,
    '-chardev', `socket,id=qga0,path=${spec.agentSocket},server=on,wait=off`,
    '-device', 'virtio-serial-pci,id=vser0,bus=pcie.0,addr=0x4',
    '-device', `virtserialport,bus=vser0.0,chardev=qga0,name=${AGENT_PORT_NAME}`,
    '-device', 'virtio-rng-pci,bus=pcie.0,addr=0x5',
    '-qmp', `unix:${spec.qmpSocket},server=on,wait=off`,
    '-serial', `file:${spec.consoleLog}`,
    '-pidfile', spec.pidFile,
  ];
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
