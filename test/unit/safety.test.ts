import { describe, expect, it } from 'vitest';
import { SafetyError } from '../../lab/errors.ts';
import { defaultConfig } from '../../lab/topology/config.ts';
import { planLab, planLinks, type VethPlan } from '../../lab/topology/plan.ts';
import { assertSafePlan, rootNamespaceActions } from '../../lab/topology/safety.ts';

const plan = planLab(defaultConfig());
const links = planLinks(plan);
const machine = ['lo', 'eth0', 'docker0'];

function refused(fn: () => void): SafetyError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SafetyError);
    expect((e as SafetyError).exitCode).toBe(2);
    return e as SafetyError;
  }
  throw new Error('expected a SafetyError');
}

function tampered(change: (links: VethPlan[]) => void): VethPlan[] {
  const copy = structuredClone(links);
  change(copy);
  return copy;
}

describe('the safety guard', () => {
  it('accepts the lab as planned: every link joins two lab namespaces under marked names', () => {
    expect(() => assertSafePlan(plan, links, machine)).not.toThrow();
    expect(links).toHaveLength(1 + plan.internet.length);
    for (const l of links) for (const end of [l.a, l.b]) expect(end.netns.startsWith('v6lab-main-')).toBe(true);
    expect(rootNamespaceActions(links).every((a) => a.kind === 'link-transit')).toBe(true);
  });

  it("refuses a link that would stay in the machine's own namespace", () => {
    const e = refused(() => assertSafePlan(plan, tampered((l) => (l[0]!.a.netns = '')), machine));
    expect(e.message).toContain("the machine's own");
  });

  it('refuses a link into a namespace the lab does not own', () => {
    const e = refused(() => assertSafePlan(plan, tampered((l) => (l[1]!.b.netns = 'v6lab-other-upstream')), machine));
    expect(e.problems[0]).toContain('v6lab-other-upstream');
  });

  it("refuses attaching to one of the machine's real interfaces", () => {
    const e = refused(() => assertSafePlan(plan, tampered((l) => (l[0]!.a.tmpName = 'eth0')), machine));
    expect(e.problems.join('\n')).toContain('"eth0"');
    expect(e.problems.join('\n')).toContain('an interface the machine already has');
  });

  it('refuses a leftover marked link (a crashed lab) and names the fix', () => {
    const e = refused(() => assertSafePlan(plan, links, [...machine, plan.webArm.uplinkTmp]));
    expect(e.message).toContain('pnpm lab down --name main');
  });

  it('refuses any route or NAT rule in the machine namespace', () => {
    const e = refused(() => assertSafePlan(plan, links, machine, [{ kind: 'nat', what: 'MASQUERADE -o eth0' }]));
    expect(e.message).toContain('nat');
    refused(() => assertSafePlan(plan, links, machine, [{ kind: 'route', what: '2001:db8::/32 dev eth0' }]));
  });
});
