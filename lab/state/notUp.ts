/**
 * What a verb says when the lab it needs is not up: the real reason (down, or its `up` never
 * finished) and the command that fixes it, naming the lab when it is not "main" and pointing
 * at the labs that are up. Pure: takes what store.ts read from disk.
 */

/** `--name X` when the lab is not the default one. */
export function nameFlag(name: string): string {
  return name === 'main' ? '' : ` --name ${name}`;
}

export function labNotUpMessage(name: string, phase: 'creating' | 'up' | undefined, labsUp: readonly string[]): string {
  const others = labsUp.filter((l) => l !== name);
  const elsewhere = others.length
    ? ` Labs up now: ${others.join(', ')} (for one of them add --name ${others[0]}).`
    : '';
  if (phase === 'creating') {
    return (
      `lab "${name}" is not up: its \`lab up\` has not finished (it is still running, or it stopped half way).` +
      ` Fix: wait for it, or remove what it made and start again: pnpm lab down${nameFlag(name)} && pnpm lab up${nameFlag(name)}.${elsewhere}`
    );
  }
  return `lab "${name}" is down (nothing of it is running). Fix: bring it up first: pnpm lab up${nameFlag(name)}.${elsewhere}`;
}
