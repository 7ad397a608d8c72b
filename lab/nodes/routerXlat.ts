/**
 * The upstream router's DNS64 and NAT64 on the IPv6-only variant: the configs rendered in
 * topology/v6only.ts written into the router container and its daemons started there (all its
 * namespaces, so they die with the container). Idempotent.
 */
import type { LabPlan } from '../topology/plan.ts';
import { renderRouterXlatScript, renderTaygaConf, renderUnboundDns64Conf, TAYGA_CONF, UNBOUND_CONF } from '../topology/v6only.ts';
import { waitUntil } from '../wait.ts';
import type { Machine } from './machine.ts';

function writeFileCommand(path: string, content: string): string {
  return `mkdir -p "$(dirname '${path}')" && printf '%s' '${Buffer.from(content).toString('base64')}' | base64 -d > '${path}'`;
}

export async function startRouterXlat(plan: LabPlan, router: Machine): Promise<void> {
  const config = plan.config;
  await router.succeed(writeFileCommand(TAYGA_CONF, renderTaygaConf(config)));
  await router.succeed(writeFileCommand(UNBOUND_CONF, renderUnboundDns64Conf(config)));
  await router.succeed(renderRouterXlatScript(config, plan.upstream.bridge), { timeoutMs: 60_000 });
  // DNS64 answers once unbound listens: the v4-only name comes back as a synthesized AAAA.
  const name = config.internet.v4OnlyTarget.name;
  await waitUntil(
    `DNS64 on the router answers AAAA ${name}`,
    async () => {
      const r = await router.execute(`dig +short +time=1 +tries=1 AAAA ${name} @${config.upstream.internetIpv6.split('/')[0]}`, { timeoutMs: 5_000 });
      return r.exitCode === 0 && r.stdout.trim() !== '' ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
}
