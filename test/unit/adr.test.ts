/**
 * The ADR draft of `lab compare --adr` (lab/compare/adr.ts, adrFile.ts): the MADR sections, the
 * options with their parameters, pros and cons from the matrix cells (⚠ where a cell differs
 * from its declaration, "unknown" where a column did not run), the outcome left to a person, the
 * evidence links; the file name; the flag's bad input. Pure.
 */
import { describe, expect, it } from 'vitest';
import { adrFileName, renderAdr, type AdrInput } from '../../lab/compare/adr.ts';
import { takeAdrFlag } from '../../lab/compare/adrFile.ts';
import type { CompareMatrix, MatrixCell } from '../../lab/compare/matrix.ts';
import { UsageError } from '../../lab/errors.ts';

const cell = (status: MatrixCell['status'], expected: MatrixCell['expected'] = 'pass', summary = `${status} summary`): MatrixCell => ({
  status,
  expected,
  unexpected: status === 'error' || status !== expected,
  summary,
});

const matrix: CompareMatrix = {
  schema: 'v6lab.compare/1',
  tier: 'netns',
  designs: ['v6egress', 'routed-subprefix-ndp', 'docker-ula-portfwd'],
  scenarios: ['egress-nat66', 'no-inbound', 'mail-from-container', 'docker-coexistence'],
  cells: {
    v6egress: {
      'egress-nat66': cell('pass', 'pass', 'target saw 2a01:4f8:c012:43b::1 (the host GUA)'),
      'no-inbound': cell('pass'),
      'mail-from-container': cell('fail', 'fail', 'caveat: IPv6 first over IPv6 from the host GUA, no PTR'),
      'docker-coexistence': cell('skipped', 'skipped', 'does not apply here'),
    },
    'routed-subprefix-ndp': {
      'egress-nat66': cell('pass'),
      'no-inbound': cell('fail', 'fail', 'every port answers'),
      'mail-from-container': cell('pass', 'fail', 'arrived over IPv4'),
      'docker-coexistence': cell('skipped', 'skipped'),
    },
  },
  durationsMs: { v6egress: 1000, 'routed-subprefix-ndp': 1000, 'docker-ula-portfwd': 0 },
  unexpected: 1,
  columns: {
    v6egress: { cell: 'v6egress--netns-debian-x86_64', tier: 'netns', guest: 'debian', arch: 'x86_64', outcome: 'ran' },
    'routed-subprefix-ndp': { cell: 'routed-subprefix-ndp--netns-debian-x86_64', tier: 'netns', guest: 'debian', arch: 'x86_64', outcome: 'ran' },
    'docker-ula-portfwd': { cell: 'docker-ula-portfwd--qemu-debian-x86_64', tier: 'qemu', guest: 'debian', arch: 'x86_64', outcome: 'missing', reason: 'no cell file came back' },
  },
};

const input: AdrInput = {
  number: 11,
  title: 'Container IPv6 egress on web-arm',
  date: '2026-12-06',
  matrix,
  options: [
    { column: 'v6egress', summary: 'ULA + NAT66 podman network', params: { networkName: 'v6egress', strictEnsure: false }, report: '../../v6egress.report.html', captures: ['../../pcaps/uplink.pcap'] },
    { column: 'routed-subprefix-ndp', summary: 'a routed /80 with an NDP proxy' },
    { column: 'docker-ula-portfwd', summary: "Docker's own NAT66" },
  ],
  scenarioTitles: { 'egress-nat66': 'NAT66 egress', 'no-inbound': 'no inbound path', 'mail-from-container': "a container's mail has FCrDNS", 'docker-coexistence': 'beside dockerd' },
  matrixLinks: ['../../matrix.md', '../../matrix.html'],
  command: 'pnpm lab compare v6egress routed-subprefix-ndp docker-ula-portfwd --adr 11 "Container IPv6 egress on web-arm"',
};

describe('renderAdr', () => {
  const adr = renderAdr(input);

  it('has the MADR sections in order, the status proposed and the outcome left to a person', () => {
    const headings = adr.split('\n').filter((l) => /^#{1,3} /.test(l));
    expect(headings).toEqual([
      '# 11. Container IPv6 egress on web-arm',
      '## Context and Problem Statement',
      '## Decision Drivers',
      '## Considered Options',
      '## Decision Outcome',
      '### Consequences',
      '## Pros and Cons of the Options',
      '### `v6egress`',
      '### `routed-subprefix-ndp`',
      '### `docker-ula-portfwd`',
      '## Links',
    ]);
    expect(adr).toContain('* Status: proposed');
    expect(adr).toContain('Chosen option: **to be chosen**');
    expect(adr).toContain('⚠ 1 cell(s) differ from what their design declares');
  });

  it('drivers are the scenarios; options the designs with their parameters', () => {
    expect(adr).toContain("* a container's mail has FCrDNS (`mail-from-container`)");
    expect(adr).toContain('* `v6egress`: ULA + NAT66 podman network (parameters: `networkName=v6egress`, `strictEnsure=false`)');
    expect(adr).toContain('* `routed-subprefix-ndp`: a routed /80 with an NDP proxy (parameters: its defaults)');
  });

  it('pros and cons come from the cells: pass good, fail bad (declared or ⚠), skip neutral, a missing column unknown', () => {
    expect(adr).toContain('* Good, because NAT66 egress (`egress-nat66`) passes — target saw 2a01:4f8:c012:43b::1 (the host GUA)');
    expect(adr).toContain("* Bad, because a container's mail has FCrDNS (`mail-from-container`) fails (as its design declares) — caveat: IPv6 first over IPv6 from the host GUA, no PTR");
    expect(adr).toContain('* Neutral, because beside dockerd (`docker-coexistence`) does not apply (as its design declares)');
    expect(adr).toContain("* Good, because a container's mail has FCrDNS (`mail-from-container`) passes ⚠ the design declares fail: this cell differs from it");
    expect(adr).toContain('* Unknown: this option has no results (its cell is missing): no cell file came back.');
  });

  it('links the matrix, each option\'s evidence and its captures', () => {
    expect(adr).toContain('* The comparison: [../../matrix.md](../../matrix.md)');
    expect(adr).toContain('* Evidence of `v6egress` (every check: command, where, expected, seen): [../../v6egress.report.html](../../v6egress.report.html)');
    expect(adr).toContain('* Capture of `v6egress`: [../../pcaps/uplink.pcap](../../pcaps/uplink.pcap)');
  });
});

describe('the ADR file and the flag', () => {
  it('names the file by number and title', () => {
    expect(adrFileName(11, 'Container IPv6 egress on web-arm')).toBe('0011-container-ipv6-egress-on-web-arm.md');
    expect(adrFileName(3, 'NAT66 — ja oder nein?')).toBe('0003-nat66-ja-oder-nein.md');
    expect(adrFileName(7, '???')).toBe('0007-decision.md');
  });

  it('takes --adr N "TITLE" out of the arguments, and names the fix for bad input', () => {
    expect(takeAdrFlag(['v6egress', '--adr', '11', 'A title', 'routed-subprefix'])).toEqual({ adr: { number: 11, title: 'A title' }, rest: ['v6egress', 'routed-subprefix'] });
    expect(takeAdrFlag(['v6egress'])).toEqual({ rest: ['v6egress'] });
    for (const bad of [['--adr'], ['--adr', 'eleven', 'x'], ['--adr', '11'], ['--adr', '11', '--json'], ['--adr', '0', 'x']]) {
      expect(() => takeAdrFlag(bad), bad.join(' ')).toThrow(UsageError);
      expect(() => takeAdrFlag(bad), bad.join(' ')).toThrow(/Fix: --adr <number> "<title>"/);
    }
  });
});
