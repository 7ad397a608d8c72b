import { describe, expect, it } from 'vitest';
import { networkKeepsIdAcrossDaemonStart } from '../../scenarios/lib/checks.ts';

describe('which networks keep their ID when their daemon starts again (idempotent-reboot compares it)', () => {
  it("Docker's predefined bridge does not: dockerd recreates it at every start", () => {
    expect(networkKeepsIdAcrossDaemonStart('docker', 'bridge')).toBe(false);
  });
  it("Docker's user-defined networks and every podman network do", () => {
    expect(networkKeepsIdAcrossDaemonStart('docker', 'v6ula')).toBe(true);
    expect(networkKeepsIdAcrossDaemonStart('podman', 'v6egress')).toBe(true);
    expect(networkKeepsIdAcrossDaemonStart('podman', 'bridge')).toBe(true);
  });
});
