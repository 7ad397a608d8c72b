import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lab/errors.ts';
import {
  findSinkRecord,
  mailProbe,
  mailProbeToken,
  parseSinkLog,
  postconfEditArgv,
  postfixMainCfText,
  renderPostfixMainCf,
  sendmailProbeCommand,
  smtpProbeCommand,
} from '../../lab/mail/postfix.ts';
import { defaultConfig } from '../../lab/topology/config.ts';
import { applyOverrides } from '../../lab/topology/overrides.ts';
import { validateConfig } from '../../lab/topology/validate.ts';
import { expectGolden, thrown } from './helpers/golden.ts';

const config = defaultConfig();

describe("web-arm's postfix main.cf", () => {
  it('renders the production settings (golden)', () => {
    expectGolden('postfix-main.cf', postfixMainCfText(renderPostfixMainCf(config)));
  });

  it('prefers IPv4 for outbound SMTP on a dual-stack host and delivers locally for localhost only', () => {
    const lines = renderPostfixMainCf(config);
    expect(lines).toContain('inet_protocols = all');
    expect(lines).toContain('smtp_address_preference = ipv4');
    expect(lines).toContain('mydestination = localhost');
    expect(lines).toContain('relayhost =');
    expect(lines).toContain('smtp_tls_security_level = none');
    for (const line of lines) expect(line).toMatch(/^[a-z_]+ = ?\S*/);
  });

  it('takes myhostname from webArm.hostname', () => {
    const other = validateConfig(applyOverrides(defaultConfig(), [{ path: 'webArm.hostname', value: 'web-arm.example.net' }]));
    expect(renderPostfixMainCf(other)[0]).toBe('myhostname = web-arm.example.net');
  });

  it('applies the lines with postconf -e, one argument each', () => {
    expect(postconfEditArgv(['a = 1', 'b ='])).toEqual(['postconf', '-e', 'a = 1', 'b =']);
  });
});

describe('the mail probe', () => {
  it('goes from root@<hostname> to probe@<mx name> with the token in the subject', () => {
    const probe = mailProbe(config, 'tok-1');
    expect(probe).toEqual({ sender: 'root@web-arm', recipient: 'probe@mx.example', token: 'tok-1', subject: 'v6lab mail probe tok-1' });
    expect(mailProbe(config, 'tok-1', 'probe@example').recipient).toBe('probe@example');
  });

  it('builds the sendmail command line', () => {
    expect(sendmailProbeCommand(mailProbe(config, 'before-lz1-0000ab'))).toBe(
      "printf '%s\\n' 'Subject: v6lab mail probe before-lz1-0000ab' 'From: root@web-arm' 'To: probe@mx.example'" +
        " 'X-V6lab-Token: before-lz1-0000ab' '' 'v6lab mail probe before-lz1-0000ab: web-arm to the mail exchanger.'" +
        " | /usr/sbin/sendmail -f 'root@web-arm' 'probe@mx.example'",
    );
  });

  it('refuses tokens and recipients that would need quoting in a header or a shell', () => {
    for (const token of ['', 'a b', "it's", 'x;rm', 'a'.repeat(65), 'tok\n']) {
      const error = thrown(() => mailProbe(config, token));
      expect(error, JSON.stringify(token)).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe('token');
    }
    const error = thrown(() => mailProbe(config, 'ok', 'probe@mx.example; reboot'));
    expect((error as ConfigError).field).toBe('recipient');
  });

  it('makes distinct, valid tokens', () => {
    const a = mailProbeToken('before apply', 1_700_000_000_000, 0.5);
    const b = mailProbeToken('before apply', 1_700_000_000_000, 0.25);
    expect(a).toBe('before-apply-loyw3v28-i00000');
    expect(a).not.toBe(b);
    expect(mailProbeToken('', 0, 0)).toBe('probe-0-000000');
    expect(() => mailProbe(config, mailProbeToken('after: the change!', Date.now(), 0.999999))).not.toThrow();
  });
});

describe("the SMTP sink's log", () => {
  const log = [
    '{"time": 1.5, "proto": "http", "port": 80, "client": "198.51.100.100"}',
    'not json',
    '{"time": 2.0, "proto": "smtp", "port": 25, "client": "203.0.113.10", "helo": "web-arm", "from": "root@web-arm", "to": ["probe@mx.example"], "subject": "v6lab mail probe tok-a", "messageId": "<1@web-arm>", "size": 300}',
    '{"time": 3.0, "proto": "smtp", "port": 25, "client": "2a01:4f8:c012:43b::1", "helo": "web-arm", "from": "root@web-arm", "to": ["probe@mx.example"], "subject": "v6lab mail probe tok-b", "messageId": "", "size": 300}',
    '{"time": 4.0, "proto": "smtp", "port": 25, "client": "::ffff:198.51.100.100", "from": "", "to": "x@example", "subject": "v6lab mail probe tok-a2"}',
    '',
  ].join('\n');

  it('reads every smtp record with its address family', () => {
    const records = parseSinkLog(log);
    expect(records.map((r) => [r.client, r.family])).toEqual([
      ['203.0.113.10', 4],
      ['2a01:4f8:c012:43b::1', 6],
      ['198.51.100.100', 4],
    ]);
    expect(records[0]).toEqual({
      time: 2,
      port: 25,
      client: '203.0.113.10',
      family: 4,
      helo: 'web-arm',
      from: 'root@web-arm',
      to: ['probe@mx.example'],
      subject: 'v6lab mail probe tok-a',
    });
    expect(records[2]!.to).toEqual(['x@example']);
  });

  it('finds the record of a token (a whole word of the subject), or none', () => {
    expect(findSinkRecord(log, 'tok-a')?.client).toBe('203.0.113.10');
    expect(findSinkRecord(log, 'tok-b')).toMatchObject({ client: '2a01:4f8:c012:43b::1', family: 6 });
    expect(findSinkRecord(log, 'tok')).toBeUndefined();
    expect(findSinkRecord('', 'tok-a')).toBeUndefined();
  });
});

describe("the sink's reverse DNS check and a container's SMTP probe", () => {
  it('reads what the sink found of the client (PTR, forward-confirmed or not), and nothing where it did not check', () => {
    const log = [
      '{"time": 1.0, "proto": "smtp", "port": 25, "client": "203.0.113.10", "rdns": "web-arm.example", "fcrdns": true, "rdnsWhy": "PTR web-arm.example, which resolves back to 203.0.113.10", "from": "a@b", "to": ["c@d"], "subject": "v6lab mail probe t1"}',
      '{"time": 2.0, "proto": "smtp", "port": 25, "client": "2a01:4f8:c012:43b::1", "rdns": null, "fcrdns": false, "rdnsWhy": "no PTR for 2a01:4f8:c012:43b::1", "from": "a@b", "to": ["c@d"], "subject": "v6lab mail probe t2"}',
      '{"time": 3.0, "proto": "smtp", "port": 25, "client": "198.51.100.100", "from": "a@b", "to": ["c@d"], "subject": "v6lab mail probe t3"}',
    ].join('\n');
    expect(findSinkRecord(log, 't1')?.reverse).toEqual({ name: 'web-arm.example', fcrdns: true, why: 'PTR web-arm.example, which resolves back to 203.0.113.10' });
    expect(findSinkRecord(log, 't2')?.reverse).toEqual({ fcrdns: false, why: 'no PTR for 2a01:4f8:c012:43b::1' });
    expect(findSinkRecord(log, 't3')?.reverse).toBeUndefined();
  });

  it('sends with curl straight to the MX (CRLF lines, the token in the subject), quoted for the shell', () => {
    const probe = mailProbe(defaultConfig(), 'tok-c', 'postmaster@example');
    const command = smtpProbeCommand({ ...probe, sender: "app@web-arm" }, 'mx.example', 'v6probe');
    const printf =
      "printf '%s\\r\\n' 'Subject: v6lab mail probe tok-c' 'From: app@web-arm' 'To: postmaster@example' 'X-V6lab-Token: tok-c' '' " +
      "'v6lab mail probe tok-c: a container to the mail exchanger.'";
    const curl = (family: string) => `curl ${family}-sS -m 40 --connect-timeout 20 --url 'smtp://mx.example/v6probe' --mail-from 'app@web-arm' --mail-rcpt 'postmaster@example' -T -`;
    expect(command).toBe(`${printf} | ${curl('')}`);
    // An MTA that prefers IPv6: IPv4 only when IPv6 cannot connect.
    expect(smtpProbeCommand({ ...probe, sender: 'app@web-arm' }, 'mx.example', 'v6probe', 'ipv6-first')).toBe(`{ ${printf} | ${curl('-6 ')}; } || { ${printf} | ${curl('-4 ')}; }`);
  });
});
