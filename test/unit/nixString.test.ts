import { describe, expect, it } from 'vitest';
import { evalNixJson, hasNixInstantiate } from '../../lab/nixos/nixInstantiate.ts';
import { isNixIdentifier, nixAttrName, nixAttrPath, nixIndentedString, nixString } from '../../lab/nixos/nixString.ts';
import { titleOrSkipReason } from './helpers/golden.ts';

/** Strings that trip up Nix literals: quotes, antiquotations, escapes, indentation. */
const TRICKY = [
  '', 'a', 'a\n', "it's", "'", "''", "'''", "''''", "a'", "a''", "'${x}", "''${x}", "'''${x}", '${x}', '$${x}', '$$', '$', 'a$',
  '\\', '\\n', "\t'x", "'\t", '  \n   \nx\n', '\n\nx\n\n', 'a\r\nb', "'\r", "line '' a\n", "x = '${y}'\n", '   ', '  a',
  ' x\n  y', "''\\", "'\\'", '"q"', '🙂 ü', '  a\n    b\n', '\t a', ' \n x',
  "have=$(podman network inspect \"$net\" --format '{{range .Subnets}}{{.Subnet}} {{end}}')\n",
];

describe('nixString', () => {
  it('escapes backslash, double quote, antiquotation and control characters', () => {
    expect(nixString('plain')).toBe('"plain"');
    expect(nixString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(nixString('${x} $y $${z}')).toBe('"\\${x} $y $\\${z}"');
    expect(nixString('a\nb\tc\rd')).toBe('"a\\nb\\tc\\rd"');
  });
});

describe('nixIndentedString', () => {
  it('indents the lines and closes on a line of its own', () => {
    expect(nixIndentedString('echo hi\n  nested\n', '  ')).toBe("''\n    echo hi\n      nested\n  ''");
  });

  it("escapes '' and ${ and keeps single quotes as they are", () => {
    expect(nixIndentedString("a '' b ${c} 'd'\n", '')).toBe("''\n  a ''' b ''${c} 'd'\n''");
  });

  it('writes a quote that would run into an escape or the closing quotes as an escape', () => {
    expect(nixIndentedString("'${x}\n", '')).toBe("''\n  ''\\'''${x}\n''");
    expect(nixIndentedString("a'", '')).toBe("''\n  a''\\'''");
  });

  it('keeps leading spaces that every line shares, and lines of spaces only', () => {
    expect(nixIndentedString('  a\n    b\n', '')).toBe("''\n  ''\\  a\n      b\n''");
    expect(nixIndentedString('x\n   \ny\n', '')).toBe("''\n  x\n  ''\\   \n  y\n''");
  });
});

describe('attribute names', () => {
  it('are bare when Nix allows it, quoted otherwise (keywords, dots, leading digits)', () => {
    expect(isNixIdentifier('v6egress-network')).toBe(true);
    expect(nixAttrName('podman-v6probe')).toBe('podman-v6probe');
    expect(nixAttrName('net.ipv6.conf.all.forwarding')).toBe('"net.ipv6.conf.all.forwarding"');
    expect(nixAttrName('in')).toBe('"in"');
    expect(nixAttrName('1net')).toBe('"1net"');
    expect(nixAttrName('')).toBe('""');
    expect(nixAttrPath(['boot', 'kernel', 'sysctl', 'net.ipv6.conf.all.forwarding'])).toBe('boot.kernel.sysctl."net.ipv6.conf.all.forwarding"');
    expect(() => nixAttrPath([])).toThrow(TypeError);
  });
});

const nix = await hasNixInstantiate();

describe.skipIf(!nix)(titleOrSkipReason('round trip through nix-instantiate --eval', nix, 'nix-instantiate is not installed; apt-get install nix-bin'), () => {
  it('gives back every tricky string from both literal kinds', async () => {
    const literals = TRICKY.flatMap((s) => [nixString(s), `({ v = ${nixIndentedString(s, '  ')}; }).v`]);
    const seen = await evalNixJson('', () => `[ ${literals.map((l) => `(${l})`).join(' ')} ]`);
    expect(seen).toEqual(TRICKY.flatMap((s) => [s, s]));
  });

  it('gives back names as attribute names', async () => {
    const names = ['v6egress-network', 'net.ipv6.conf.all.forwarding', 'in', '1net', 'a"b', '${x}'];
    const seen = await evalNixJson('', () => `builtins.attrNames { ${names.map((n) => `${nixAttrName(n)} = 1;`).join(' ')} }`);
    expect(seen).toEqual([...names].sort());
  });
});
