/**
 * Nix's lexical rules for the values this lab writes into modules: double-quoted strings,
 * indented ('' … '') strings and attribute names. Pure.
 *
 * Double-quoted: `\`, `"` and the `${` that would start an antiquotation are escaped; line
 * breaks, tabs and carriage returns become `\n`, `\t`, `\r`.
 * Indented: `''` becomes `'''`, `${` becomes `''${`, a carriage return `''\r`, a tab `''\t`
 * (Nix strips common leading spaces, never tabs), the first space of a line holding only
 * spaces `''\ ` (Nix would strip it), and a quote that would run into a `''` `''\'`.
 */

const KEYWORDS = new Set(['if', 'then', 'else', 'assert', 'with', 'let', 'in', 'rec', 'inherit', 'or']);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_'-]*$/;

/** A Nix double-quoted string literal whose value is exactly `value`. */
export function nixString(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\') out += '\\\\';
    else if (c === '"') out += '\\"';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (c === '$' && value[i + 1] === '{') out += '\\$';
    else out += c;
  }
  return `${out}"`;
}

/**
 * A Nix indented string literal whose value is exactly `value`, laid out for a multi-line
 * attribute: `''`, then every line of value indented by `indent` + two spaces, then `indent''`.
 * A value that does not end with a line break closes the literal right after its last line.
 */
export function nixIndentedString(value: string, indent: string): string {
  const endsWithBreak = value.endsWith('\n');
  const text = endsWithBreak ? value.slice(0, -1) : value;
  const inner = `${indent}  `;
  const body = escapeIndented(text, !endsWithBreak)
    .split('\n')
    .map((line) => (/^ +$/.test(line) ? `''\\ ${line.slice(1)}` : line));
  // Nix strips the indentation common to every non-empty line: when every line of the value
  // starts with spaces, one line's first space is escaped so that only `inner` is stripped.
  const leading = body.filter((l) => l !== '').map((l) => /^ */.exec(l)![0].length);
  const least = leading.length ? Math.min(...leading) : 0;
  if (least > 0) {
    const at = body.findIndex((l) => l !== '' && /^ */.exec(l)![0].length === least);
    body[at] = `''\\ ${body[at]!.slice(1)}`;
  }
  const lines = body.map((line) => (line === '' ? '' : `${inner}${line}`));
  return endsWithBreak ? `''\n${lines.join('\n')}\n${indent}''` : `''\n${lines.join('\n')}''`;
}

/** The escape an indented string needs at text[i] (`${`, CR, tab), if any. */
function indentedEscapeAt(text: string, i: number): string | undefined {
  if (text[i] === '$' && text[i + 1] === '{') return "''${";
  if (text[i] === '\r') return "''\\r";
  if (text[i] === '\t') return "''\\t";
  return undefined;
}

/**
 * The body of an indented string. Nix reads a run of quotes three at a time (`'''` is two
 * quotes), so a run of n quotes is written as pairs (`'''` each) and, when n is odd, one more
 * quote; that one is written `''\'` when what follows starts with `''` (an escape, or the
 * closing `''` right after the text), where a bare quote would merge into it.
 */
function escapeIndented(text: string, closesRightAfter: boolean): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] === "'") {
      let n = 0;
      while (text[i + n] === "'") n++;
      out += "'''".repeat(Math.floor(n / 2));
      i += n;
      if (n % 2 === 1) {
        const quotesFollow = i === text.length ? closesRightAfter : indentedEscapeAt(text, i) !== undefined;
        out += quotesFollow ? "''\\'" : "'";
      }
      continue;
    }
    const escape = indentedEscapeAt(text, i);
    if (escape === undefined) {
      out += text[i];
      i++;
    } else {
      out += escape;
      i += escape === "''${" ? 2 : 1;
    }
  }
  return out;
}

/** True for a name Nix accepts bare as an attribute name (not a keyword). */
export function isNixIdentifier(name: string): boolean {
  return IDENTIFIER.test(name) && !KEYWORDS.has(name);
}

/** An attribute name: bare when Nix allows it, else a quoted string. */
export function nixAttrName(name: string): string {
  return isNixIdentifier(name) ? name : nixString(name);
}

/** An attribute path such as `systemd.services.v6egress-network` or `boot.kernel.sysctl."net.ipv6…"`. */
export function nixAttrPath(path: readonly string[]): string {
  if (path.length === 0) throw new TypeError('an attribute path needs at least one name');
  return path.map(nixAttrName).join('.');
}
