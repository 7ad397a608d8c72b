/**
 * The oneshot that ensures a podman network exists, shaped like the production module's:
 * Wants/After podman.service (and the sysctls), Before the containers that attach to it.
 */
import { defineService, type UnitSpec } from '../units/model.ts';

export function networkEnsureUnit(network: string, description: string, attachedUnits: string[], execStart: string): UnitSpec {
  return defineService({
    name: `${network}-network.service`,
    description,
    wants: ['podman.service'],
    after: ['podman.service', 'systemd-sysctl.service'],
    before: attachedUnits,
    wantedBy: ['multi-user.target'],
    type: 'oneshot',
    remainAfterExit: true,
    execStart: [execStart],
  });
}
