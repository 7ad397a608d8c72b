/**
 * The witnesses of nixos-fw's refusals (scenarios/lib/refusals.ts): reading the LOG rule's
 * counter from `ip6tables -nvx -L nixos-fw-log-refuse`, and the kernel's "refused connection: "
 * lines (IPv6 addresses as the kernel prints them). Pure.
 */
import { describe, expect, it } from 'vitest';
import { kernelLogAddress, logRuleCount, refusedLines } from '../../scenarios/lib/refusals.ts';

const LISTING = [
  'Chain nixos-fw-log-refuse (1 references)',
  '    pkts      bytes target     prot opt in     out     source               destination',
  '       3      240 LOG        6    --  *      *       ::/0                 ::/0                 tcp flags:0x17/0x02 LOG flags 0 level 6 prefix "refused connection: "',
  '       0        0 nixos-fw-refuse  0    --  *      *       ::/0                 ::/0                 PKTTYPE != unicast',
  '       7      560 nixos-fw-refuse  0    --  *      *       ::/0                 ::/0',
].join('\n');

const LOG = [
  'refused connection: IN=enp1s0 OUT= MAC=96:00:02:c0:12:43:02:00:00:00:00:01:86:dd SRC=2001:0db8:ffff:0000:0000:0000:0000:0100 DST=2a01:04f8:c012:043b:0000:0000:0000:0001 LEN=80 TC=0 HOPLIMIT=63 FLOWLBL=12345 PROTO=TCP SPT=40000 DPT=8080 WINDOW=64800 RES=0x00 SYN URGP=0 ',
  'refused connection: IN=enp1s0 OUT= MAC=… SRC=198.51.100.100 DST=203.0.113.10 LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=1 DF PROTO=TCP SPT=40001 DPT=8080 WINDOW=64240 RES=0x00 SYN URGP=0 ',
  'refused connection: IN=enp1s0 OUT= MAC=… SRC=198.51.100.100 DST=203.0.113.10 LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=1 DF PROTO=TCP SPT=40002 DPT=9999 WINDOW=64240 RES=0x00 SYN URGP=0 ',
  'some other kernel line',
].join('\n');

describe('refusal witnesses', () => {
  it("reads the LOG rule's packet counter", () => {
    expect(logRuleCount(LISTING)).toBe(3);
    expect(logRuleCount(LISTING.split('\n').filter((l) => !l.includes(' LOG ')).join('\n'))).toBeUndefined();
  });

  it('writes addresses as the kernel log does', () => {
    expect(kernelLogAddress('2a01:4f8:c012:43b::1')).toBe('2a01:04f8:c012:043b:0000:0000:0000:0001');
    expect(kernelLogAddress('203.0.113.10')).toBe('203.0.113.10');
  });

  it('finds the refused SYNs to a destination and port', () => {
    expect(refusedLines(LOG, '2a01:4f8:c012:43b::1', 8080)).toHaveLength(1);
    expect(refusedLines(LOG, '203.0.113.10', 8080)).toHaveLength(1);
    expect(refusedLines(LOG, '203.0.113.10', 80)).toHaveLength(0);
  });
});

describe('refuseRuleCount', () => {
  it('sums the packets of the rules that jump to nixos-fw-refuse', async () => {
    const { refuseRuleCount } = await import('../../scenarios/lib/refusals.ts');
    expect(refuseRuleCount(LISTING)).toBe(7);
  });
});
