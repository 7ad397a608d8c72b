/**
 * veth pairs between namespaces. Created in the root namespace under temporary names that
 * carry the lab's mark (v6l<hash>…, plus an alias), then moved and renamed at once, so a
 * crash leaves at most marked links that `down` finds by prefix.
 */
import { run, succeed } from '../exec.ts';
import { ipIn } from './netns.ts';

export interface VethEnd {
  /** Target namespace name. */
  netns: string;
  tmpName: string;
  name: string;
  mac?: string;
}

export async function createVeth(a: VethEnd, b: VethEnd, mark: string): Promise<void> {
  await deleteLink(a.tmpName);
  await succeed(['ip', 'link', 'add', a.tmpName, 'type', 'veth', 'peer', 'name', b.tmpName]);
  for (const end of [a, b]) {
    await succeed(['ip', 'link', 'set', 'dev', end.tmpName, 'alias', mark]);
    await succeed(['ip', 'link', 'set', 'dev', end.tmpName, 'netns', end.netns]);
    const args = ['link', 'set', 'dev', end.tmpName, 'name', end.name];
    if (end.mac) args.push('address', end.mac);
    await succeed(ipIn(end.netns, ...args));
    await succeed(ipIn(end.netns, 'link', 'set', 'dev', end.name, 'up'));
  }
}

/** Removes a link in the root namespace if it is there. */
export async function deleteLink(name: string): Promise<void> {
  await run(['ip', 'link', 'delete', 'dev', name], { allowFailure: true });
}

/** Links in the root namespace whose name starts with prefix (leftovers of a crash). */
export async function listRootLinks(prefix: string): Promise<string[]> {
  const out = await succeed(['ip', '-j', 'link', 'show']);
  const links = JSON.parse(out || '[]') as Array<{ ifname: string }>;
  return links.map((l) => l.ifname).filter((n) => n.startsWith(prefix));
}
