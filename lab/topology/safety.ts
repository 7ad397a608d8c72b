/**
 * The safety guard, run before anything is created: the lab's links may only join namespaces
 * the lab owns, their temporary names in the machine's namespace must carry the lab's mark
 * and must not be an interface the machine already has, and the lab adds no route or NAT rule
 * to the machine's namespace (its plan has no step that could). Pure.
 */
import { SafetyError } from '../errors.ts';
import type { LabPlan, VethPlan } from './plan.ts';

/** Steps of the plan that act on the machine's own namespace (none may route or NAT). */
export interface RootNamespaceAction {
  kind: 'link-transit' | 'route' | 'nat';
  what: string;
}

export function rootNamespaceActions(links: VethPlan[]): RootNamespaceAction[] {
  // A veth pair is born in the machine's namespace and moved out at once; nothing else is.
  return links.flatMap((l) => [l.a, l.b].map((end) => ({ kind: 'link-transit' as const, what: end.tmpName })));
}

export function assertSafePlan(plan: LabPlan, links: VethPlan[], machineInterfaces: string[], actions = rootNamespaceActions(links)): void {
  const problems: string[] = [];
  const ownNamespaces = new Set([plan.webArm.netnsName, plan.upstream.netnsName, ...plan.internet.map((h) => h.netnsName)]);
  for (const link of links) {
    for (const end of [link.a, link.b]) {
      if (!end.netns.startsWith(plan.netnsPrefix) || !ownNamespaces.has(end.netns)) {
        problems.push(`link ${link.id} would end in namespace "${end.netns || '(the machine\'s own)'}", which the lab does not own`);
      }
      if (!end.tmpName.startsWith(plan.linkPrefix) || end.tmpName.length > 15) {
        problems.push(`link ${link.id} would appear on the machine as "${end.tmpName}", which does not carry the lab's mark ${plan.linkPrefix}`);
      }
      if (machineInterfaces.includes(end.tmpName)) {
        problems.push(`link ${link.id} would reuse "${end.tmpName}", an interface the machine already has (a leftover of a crashed lab? run \`pnpm lab down --name ${plan.name}\`)`);
      }
    }
  }
  for (const action of actions) {
    if (action.kind !== 'link-transit') problems.push(`the plan would add a ${action.kind} in the machine's namespace: ${action.what}`);
  }
  if (problems.length) throw new SafetyError(problems);
}
