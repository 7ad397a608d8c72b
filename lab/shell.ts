/**
 * Quoting for `sh -c`: one word in single quotes (a single quote inside closed, escaped and
 * reopened). The commands the lab hands a shell (through the guest agent, nsenter, a probe's
 * exec) quote their words with it. Pure.
 */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
