import { describe, expect, it } from 'vitest';
import { stableNetworkDefinition } from '../../scenarios/lib/checks.ts';

describe('stableNetworkDefinition', () => {
  const base = { name: 'podman', id: 'abc', driver: 'bridge', subnets: [{ subnet: '10.88.0.0/16', gateway: '10.88.0.1' }], ipv6_enabled: false };
  it('ignores the regenerated creation time and the attached containers (podman 5 lists them; new IDs after a boot)', () => {
    const before = JSON.stringify([{ ...base, created: '2026-01-01T00:00:00Z', containers: { aaa: { name: 'collabora' } } }]);
    const after = JSON.stringify([{ ...base, created: '2026-01-02T00:00:00Z', containers: { bbb: { name: 'collabora' } } }]);
    expect(stableNetworkDefinition(after)).toBe(stableNetworkDefinition(before));
  });
  it('still sees a changed subnet or IPv6 switched on', () => {
    const before = JSON.stringify([base]);
    expect(stableNetworkDefinition(JSON.stringify([{ ...base, ipv6_enabled: true }]))).not.toBe(stableNetworkDefinition(before));
    expect(stableNetworkDefinition(JSON.stringify([{ ...base, subnets: [{ subnet: '10.99.0.0/16' }] }]))).not.toBe(stableNetworkDefinition(before));
  });
});
