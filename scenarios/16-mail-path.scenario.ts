// web-arm's mail still leaves over IPv4 after the change: postfix prefers IPv4
// (smtp_address_preference = ipv4), the mail exchanger is dual-stack, and the sink reports the
// client address it saw and whether it has forward-confirmed reverse DNS (the provider's rDNS of
// web-arm's IPv4), before the change (recorded at `lab up`) and now.
import type { MailPathObservation } from '../lab/scenario/observe/mailPath.ts';
import { scenario } from '../lab/scenario/define.ts';
import type { ScenarioRun } from '../lab/scenario/recorder.ts';

function seen(o: MailPathObservation | undefined): string {
  if (!o) return 'no observation recorded';
  if (!o.received) {
    const state = o.postfixState ? `; postfix's state: ${o.postfixState.split('\n').join(' | ')}` : '';
    return `never arrived; postfix: ${o.postfixLog.split('\n').slice(-2).join(' | ') || 'no smtp/qmgr lines this boot'}${state}`;
  }
  const reverse = o.received.reverse ? `; reverse DNS: ${o.received.reverse.why}` : '';
  return `from ${o.received.client} (IPv${o.received.family}) to ${o.received.to.join(', ')}${reverse}; sink: ${o.sinkLine ?? ''}`;
}

function observeDelivery(t: ScenarioRun, when: string, o: MailPathObservation | undefined): void {
  const ipv4 = t.lab.state.config.webArm.ipv4.address;
  const mx = t.lab.state.config.internet.mx.name;
  t.observe(
    `${when}: the mail exchanger received the probe over IPv4 from web-arm`,
    'mx',
    o ? `${o.command}  (then: the sink's log on ${mx})` : 'snapshot mail-before-apply',
    `a message "${o?.probe.subject ?? 'v6lab mail probe …'}" from ${ipv4} (IPv4), with forward-confirmed reverse DNS (${t.lab.state.config.webArm.ipv4.reverseName})`,
    seen(o),
    o?.received?.client === ipv4 && o.received.family === 4 && o.received.reverse?.fcrdns === true,
  );
}

scenario('mail-path', async (t) => {
  const config = t.lab.state.config;
  await t.check('postfix prefers IPv4 for SMTP', t.lab.webArm, 'postconf -h smtp_address_preference inet_protocols', {
    expected: 'ipv4, all',
    test: (out) => out.split('\n').map((l) => l.trim()).join(',') === 'ipv4,all',
  });
  await t.check(`${config.internet.mx.name} is dual-stack in DNS (as web-arm resolves it)`, t.lab.webArm, `getent ahosts ${config.internet.mx.name} | awk '{print $1}' | sort -u`, {
    expected: `${config.internet.mx.ipv4} and ${config.internet.mx.ipv6}`,
    test: (out) => out.includes(config.internet.mx.ipv4) && out.includes(config.internet.mx.ipv6),
  });
  observeDelivery(t, 'before the change (at lab up)', t.lab.baseline.mail('at-up'));
  const now = await t.lab.observeMailPath('after-apply');
  observeDelivery(t, `after the change (design ${t.lab.design.design})`, now);
  t.summary = `before and after ${t.lab.design.design}: mail reached ${config.internet.mx.name} from ${config.webArm.ipv4.address} over IPv4`;
});
