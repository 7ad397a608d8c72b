/**
 * systemd Exec line semantics (ExecStart=, ExecStartPre=, ExecStop=, ExecStopPost=), pure.
 *
 * The strings kept in a UnitSpec are Exec lines in systemd syntax *after* specifier
 * resolution: prefixes, quoting, backslash escapes and `$VAR` / `${VAR}` mean what they mean
 * to systemd, but `%` is a literal percent sign (render.ts writes it as `%%`).
 *
 * What this implements, following systemd's extract_first_word(EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE)
 * and config_parse_exec():
 * - words are separated by whitespace; a double- or single-quoted part may start anywhere in a
 *   word (`a"b c"d` is the one word `ab cd`); unlike a shell, backslash escapes are processed
 *   inside both kinds of quotes;
 * - C escapes \a \b \f \n \r \t \v \\ \" \' \s (space) \xNN \NNN (octal) \uNNNN \UNNNNNNNN;
 *   an unknown escape such as `\$` is kept verbatim, backslash included (systemd does the
 *   same after a warning); a trailing backslash outside quotes is kept verbatim;
 * - an unterminated quote is an error;
 * - prefixes on the first word: `-` (ignore failure), `@` (next word is argv[0]), `:` (no
 *   environment expansion), `+`, `!`, `!!` (privilege modes: stripped, meaningless here);
 * - a lone `;` word would separate several commands on one line: not supported, an error;
 *   `\;` is a literal `;` argument;
 * - `$VAR` and `${VAR}` are left as they are; expandExecArgv() applies systemd's expansion.
 */

import { ConfigError } from '../errors.ts';

export type ExecLine = {
  /** The `-` prefix: a non-zero exit of this command is not a failure of the unit. */
  ignoreFailure: boolean;
  /** argv[0] is the program to execute; the rest are its arguments. */
  argv: string[];
  /** With the `@` prefix: the argv[0] the program sees instead of its path. */
  argv0?: string;
  /** false with the `:` prefix: systemd does not expand `$VAR` / `${VAR}` in this line. */
  expandEnvironment: boolean;
};

const WHITESPACE = ' \t\n\r';

function isSpace(c: string): boolean {
  return WHITESPACE.includes(c);
}

function hexValue(text: string): number | undefined {
  return /^[0-9a-fA-F]+$/.test(text) ? Number.parseInt(text, 16) : undefined;
}

/**
 * One C escape as systemd's cunescape_one() reads it. `at` is the index just after the
 * backslash. Returns the decoded text and how many characters were consumed, or undefined
 * for an invalid escape.
 */
function unescapeOne(text: string, at: number): { value: string; consumed: number } | undefined {
  const c = text[at];
  switch (c) {
    case 'a':
      return { value: '\x07', consumed: 1 };
    case 'b':
      return { value: '\b', consumed: 1 };
    case 'f':
      return { value: '\f', consumed: 1 };
    case 'n':
      return { value: '\n', consumed: 1 };
    case 'r':
      return { value: '\r', consumed: 1 };
    case 't':
      return { value: '\t', consumed: 1 };
    case 'v':
      return { value: '\v', consumed: 1 };
    case '\\':
    case '"':
    case "'":
      return { value: c, consumed: 1 };
    case 's':
      return { value: ' ', consumed: 1 };
    case 'x': {
      const v = hexValue(text.slice(at + 1, at + 3));
      if (v === undefined || text.slice(at + 1, at + 3).length !== 2 || v === 0) return undefined;
      return { value: String.fromCharCode(v), consumed: 3 };
    }
    case 'u':
    case 'U': {
      const digits = c === 'u' ? 4 : 8;
      const hex = text.slice(at + 1, at + 1 + digits);
      const v = hex.length === digits ? hexValue(hex) : undefined;
      if (v === undefined || v === 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return undefined;
      return { value: String.fromCodePoint(v), consumed: 1 + digits };
    }
    default: {
      if (c !== undefined && c >= '0' && c <= '7') {
        const oct = text.slice(at, at + 3);
        if (!/^[0-7]{3}$/.test(oct)) return undefined;
        const v = Number.parseInt(oct, 8);
        if (v === 0 || v > 255) return undefined;
        return { value: String.fromCharCode(v), consumed: 3 };
      }
      return undefined;
    }
  }
}

/**
 * Splits text into words the way systemd does for Exec lines and Environment= values
 * (quotes removed, C escapes decoded). Throws ConfigError on an unterminated quote;
 * `field` names the value in that error.
 */
export function splitWords(text: string, field = 'value'): string[] {
  const words: string[] = [];
  const n = text.length;
  let i = 0;
  for (;;) {
    while (i < n && isSpace(text[i] as string)) i++;
    if (i >= n) return words;
    let word = '';
    let quote: string | undefined;
    while (i < n) {
      const c = text[i] as string;
      if (quote === undefined && isSpace(c)) break;
      if (quote !== undefined && c === quote) {
        quote = undefined;
        i++;
      } else if (quote === undefined && (c === '"' || c === "'")) {
        quote = c;
        i++;
      } else if (c === '\\') {
        if (i + 1 >= n) {
          if (quote !== undefined) break; // reported as unbalanced quoting below
          word += '\\';
          i++;
          continue;
        }
        const esc = unescapeOne(text, i + 1);
        if (esc) {
          word += esc.value;
          i += 1 + esc.consumed;
        } else {
          word += '\\' + (text[i + 1] as string);
          i += 2;
        }
      } else {
        word += c;
        i++;
      }
    }
    if (quote !== undefined) {
      throw new ConfigError(field, text, `unbalanced quoting: a ${quote} quote is never closed`, `close the ${quote} quote, or escape it as \\${quote}`);
    }
    words.push(word);
  }
}

/** Splits one Exec line (see the module comment). Throws ConfigError; `field` names the line in it. */
export function splitExecLine(line: string, field = 'exec line'): ExecLine {
  const words = splitWords(line, field);
  const first = words[0];
  if (first === undefined) {
    throw new ConfigError(field, line, 'the command line is empty', 'give the absolute path of the program to run and its arguments');
  }
  if (first === ';' || words.includes(';')) {
    throw new ConfigError(field, line, 'a lone ";" separates several commands on one line, which this lab does not support', 'give each command its own Exec line, or write \\; for a literal ";" argument');
  }
  let ignoreFailure = false;
  let separateArgv0 = false;
  let noEnv = false;
  let privileged = false;
  let k = 0;
  for (;;) {
    const c = first[k];
    if (c === '-' && !ignoreFailure) ignoreFailure = true;
    else if (c === '@' && !separateArgv0) separateArgv0 = true;
    else if (c === ':' && !noEnv) noEnv = true;
    else if (c === '+' && !privileged) privileged = true;
    else if (c === '!' && !privileged) {
      privileged = true;
      if (first[k + 1] === '!') k++;
    } else break;
    k++;
  }
  const path = first.slice(k);
  if (path === '') {
    throw new ConfigError(field, line, 'there is no program after the prefixes', 'write the program path right after the prefixes, e.g. -/bin/true');
  }
  const rest = words.slice(1).map((w) => (w === '\\;' ? ';' : w));
  const result: ExecLine = { ignoreFailure, argv: [path], expandEnvironment: !noEnv };
  if (separateArgv0) {
    const argv0 = rest.shift();
    if (argv0 === undefined) {
      throw new ConfigError(field, line, 'the @ prefix needs the argv[0] to use as the second word', 'write @/path/to/program argv0 args…, or drop the @');
    }
    result.argv0 = argv0;
  }
  result.argv.push(...rest);
  return result;
}

/** A word needs no quoting when it has only these characters. */
const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one argument so that splitWords() gives it back unchanged. */
export function quoteExecArg(arg: string): string {
  if (arg === ';') return '\\;';
  if (PLAIN_WORD.test(arg)) return arg;
  let out = '"';
  for (const ch of arg) {
    const code = ch.codePointAt(0) as number;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (code === 0) throw new ConfigError('exec argument', arg, 'contains a NUL character', 'remove the NUL character');
    else if (code < 0x20 || code === 0x7f) out += '\\x' + code.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

/**
 * Builds an Exec line from argv (argv[0] the program), quoting as needed, so that
 * splitExecLine(joinExecLine(argv)).argv equals argv. `$` is not escaped: systemd still
 * expands `${VAR}` and whole-word `$VAR` in the arguments (write `$$` for a literal `$`).
 */
export function joinExecLine(argv: readonly string[], options: { ignoreFailure?: boolean } = {}): string {
  const program = argv[0];
  if (program === undefined || program === '') {
    throw new ConfigError('exec argv', argv, 'has no program', 'put the absolute program path first');
  }
  if (/^[-@:+!]/.test(program)) {
    throw new ConfigError('exec argv', argv, `the program ${JSON.stringify(program)} starts with a character systemd reads as an Exec prefix`, 'use an absolute path for the program');
  }
  const words = argv.map((a) => quoteExecArg(a));
  return (options.ignoreFailure ? '-' : '') + words.join(' ');
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True for a name systemd accepts in Environment= (a shell variable name). */
export function isValidEnvironmentName(name: string): boolean {
  return ENV_NAME.test(name);
}

function lookup(env: Readonly<Record<string, string>>, name: string): string | undefined {
  return Object.hasOwn(env, name) ? env[name] : undefined;
}

/** systemd's replace_env() for one word: `${VAR}`, `${VAR:-default}`, `${VAR:+alternate}`, `$$`. */
function replaceInWord(word: string, env: Readonly<Record<string, string>>): string {
  let out = '';
  let i = 0;
  while (i < word.length) {
    const c = word[i] as string;
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = word[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next !== '{') {
      out += '$';
      i++;
      continue;
    }
    const close = word.indexOf('}', i + 2);
    if (close < 0) {
      out += word.slice(i);
      break;
    }
    const inner = word.slice(i + 2, close);
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::([-+])(.*))?$/s.exec(inner);
    if (!m) {
      out += word.slice(i, close + 1);
    } else {
      const value = lookup(env, m[1] as string);
      if (m[2] === '-') out += value ? value : (m[3] ?? '');
      else if (m[2] === '+') out += value ? (m[3] ?? '') : '';
      else out += value ?? '';
    }
    i = close + 1;
  }
  return out;
}

/**
 * systemd's environment expansion of an Exec line's arguments (argv[0], the program, is
 * never expanded): a word that is exactly `$VAR` becomes the variable's value split at
 * whitespace (zero words if unset or empty); `${VAR}` anywhere in a word is replaced by the
 * value as is (empty if unset), `${VAR:-default}` and `${VAR:+alternate}` as in a shell;
 * `$$` is a literal `$`. Skip this call for lines with `expandEnvironment: false`.
 */
export function expandExecArgv(argv: readonly string[], env: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  argv.forEach((word, index) => {
    if (index === 0) {
      out.push(word);
      return;
    }
    if (word.startsWith('$') && word[1] !== '{' && word[1] !== '$') {
      const value = lookup(env, word.slice(1));
      if (value !== undefined) {
        // systemd splits the value with quote removal but no C-escape decoding.
        out.push(...splitValue(value));
      }
      return;
    }
    out.push(replaceInWord(word, env));
  });
  return out;
}

/** Whitespace split with quote removal (EXTRACT_RELAX|EXTRACT_UNQUOTE): a backslash makes the next character literal, unterminated quotes are tolerated. */
function splitValue(value: string): string[] {
  const words: string[] = [];
  let i = 0;
  const n = value.length;
  for (;;) {
    while (i < n && isSpace(value[i] as string)) i++;
    if (i >= n) return words;
    let word = '';
    let quote: string | undefined;
    while (i < n) {
      const c = value[i] as string;
      if (quote === undefined && isSpace(c)) break;
      if (c === '\\') {
        // Without escape decoding a backslash just makes the next character literal.
        if (i + 1 < n) word += value[i + 1] as string;
        i += 2;
        continue;
      }
      if (quote !== undefined && c === quote) quote = undefined;
      else if (quote === undefined && (c === '"' || c === "'")) quote = c;
      else word += c;
      i++;
    }
    words.push(word);
  }
}
