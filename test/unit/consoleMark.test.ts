import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { consoleMarkCommand } from '../../lab/tiers/qemu/guestPower.ts';

describe('the console line web-arm writes after a boot or a restore', () => {
  it('names the event, the boot id and the clock, and goes to /dev/console', () => {
    const command = consoleMarkCommand('restored from snapshot abc123 (saved 2026-12-06T10:00:00Z)');
    expect(command).toMatch(/^echo ".*" >\/dev\/console$/);
    // Run as the guest's shell would, with the redirection left out: one line, the event, a boot id, a time.
    const line = execFileSync('sh', ['-c', command.replace(/ >\/dev\/console$/, '')], { encoding: 'utf8' }).trim();
    expect(line).toMatch(/^v6lab: web-arm restored from snapshot abc123 \(saved 2026-12-06T10:00:00Z\); boot [0-9a-f-]{36}; \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('an event with quotes, backticks or $( cannot break out of the echo', () => {
    const command = consoleMarkCommand('a "quoted" `id` $(event)\\');
    const line = execFileSync('sh', ['-c', command.replace(/ >\/dev\/console$/, '')], { encoding: 'utf8' }).trim();
    expect(line.startsWith('v6lab: web-arm a quoted id (event);')).toBe(true);
  });
});
