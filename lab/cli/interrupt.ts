/**
 * Ctrl-C and SIGTERM for a verb that cleans up after itself: the first signal says what will
 * happen and aborts the returned signal (the verb finishes its cleanup); a second quits at once.
 */
export interface Interrupt {
  readonly signal: AbortSignal;
  /** Stops listening (call when the verb ends). */
  dispose(): void;
}

export function onInterrupt(whatHappens: string): Interrupt {
  const abort = new AbortController();
  const onSignal = () => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write(`\nInterrupted: ${whatHappens} (Ctrl-C again to quit at once)\n`);
    abort.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: abort.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
