import { describe, expect, it } from 'vitest';
import { skipReason } from '../../lab/scenario/skipReason.ts';
import { defaultConfig } from '../../lab/topology/config.ts';
import type { Capabilities } from '../../lab/tiers/capabilityTypes.ts';

const config = defaultConfig();
const caps = (over: Partial<Capabilities>) => ({ dockerd: false, postfix: false, ...over }) as unknown as Capabilities;
const base = { capabilities: caps({}), tier: 'netns', config, design: 'v6egress', expected: undefined };

describe('why a scenario will not run (the scenario and lab test --parallel ask the same)', () => {
  it('runs when nothing says otherwise', () => {
    expect(skipReason({ ...base, entry: {} })).toBeUndefined();
  });

  it('a capability it needs comes first, before the file is even asked', () => {
    let asked = false;
    const reason = skipReason({
      ...base,
      entry: { requires: { capability: 'dockerd', why: 'the Docker story' } },
      notApplicable: () => {
        asked = true;
        return 'file reason';
      },
      expected: 'skipped',
    });
    expect(reason).toEqual({ summary: 'needs dockerd, which web-arm has not on the netns tier: the Docker story', why: 'no dockerd on the netns tier' });
    expect(asked).toBe(false);
  });

  it("then the file's own reason, then the variant, then the design's declaration", () => {
    const variant = { test: () => false, why: 'IPv6-only only' };
    expect(skipReason({ ...base, entry: { variant }, notApplicable: () => 'no probe port', expected: 'skipped' })?.summary).toBe('does not apply here: no probe port');
    expect(skipReason({ ...base, entry: { variant }, expected: 'skipped' })?.summary).toBe('does not apply here: IPv6-only only');
    expect(skipReason({ ...base, entry: {}, expected: 'skipped' })).toEqual({ summary: 'does not apply to design v6egress (declared by the design)', why: 'does not apply to design v6egress' });
    expect(skipReason({ ...base, entry: {}, expected: 'fail' })).toBeUndefined();
  });
});
