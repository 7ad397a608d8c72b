/**
 * Drift of a podman network: what `podman network inspect` shows against what the design
 * intends. The production idiom `exists || create` never looks; the lab does.
 */
import type { NetworkIntent } from '../../designs/design.ts';
import type { Machine } from '../../nodes/machine.ts';
import { normalizeCidrText } from '../../topology/addresses.ts';

export interface NetworkDrift {
  network: string;
  exists: boolean;
  inspected: string[];
  intended: string[];
  ipv6Enabled: boolean;
  drift: boolean;
}

/** Pure: compares inspected subnets (and the IPv6 flag) with the intent. */
export function compareNetwork(intent: NetworkIntent, inspected: string[] | undefined, ipv6Enabled: boolean): NetworkDrift {
  const have = (inspected ?? []).map(normalizeCidrText).sort();
  const want = intent.subnets.map(normalizeCidrText).sort();
  const same = inspected !== undefined && have.join(' ') === want.join(' ') && ipv6Enabled === intent.ipv6;
  return { network: intent.name, exists: inspected !== undefined, inspected: have, intended: want, ipv6Enabled, drift: !same };
}

export async function inspectNetworkDrift(webArm: Machine, intent: NetworkIntent): Promise<NetworkDrift> {
  const result = await webArm.execute(`podman network inspect ${intent.name}`);
  if (result.exitCode !== 0) return compareNetwork(intent, undefined, false);
  const [network] = JSON.parse(result.stdout) as Array<{ subnets?: Array<{ subnet: string }>; ipv6_enabled?: boolean }>;
  return compareNetwork(intent, (network?.subnets ?? []).map((s) => s.subnet), Boolean(network?.ipv6_enabled));
}

export function describeDrift(d: NetworkDrift): string {
  if (!d.exists) return `${d.network} does not exist (intended ${d.intended.join(', ')})`;
  return d.drift
    ? `DRIFT: ${d.network} inspected [${d.inspected.join(', ')}] ipv6=${d.ipv6Enabled}, intended [${d.intended.join(', ')}]`
    : `${d.network} matches the intent [${d.intended.join(', ')}]`;
}
