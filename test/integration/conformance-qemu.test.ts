/**
 * The tier conformance story on the qemu tier's Debian guest (conformance.ts): a cold boot or a
 * snapshot restore, real systemd, a real reboot. Needs root; V6LAB_QEMU=0 turns it off, as the
 * other qemu tests.
 */
import { conformanceSuite } from './conformance.ts';

conformanceSuite({ tier: 'qemu', guest: 'debian', ...(process.env.V6LAB_QEMU === '0' ? { off: 'V6LAB_QEMU=0' } : {}) });
