import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheBase } from '../../lab/images/cacheBase.ts';

describe("the lab's cache directory (images, guest images, engine storage, Node's compile cache)", () => {
  it('is $V6LAB_CACHE_DIR, else $XDG_CACHE_HOME/v6lab, else ~/.cache/v6lab', () => {
    expect(cacheBase({ V6LAB_CACHE_DIR: '/srv/v6', XDG_CACHE_HOME: '/x' })).toBe('/srv/v6');
    expect(cacheBase({ XDG_CACHE_HOME: '/x' })).toBe('/x/v6lab');
    expect(cacheBase({})).toBe(join(homedir(), '.cache', 'v6lab'));
  });
});
