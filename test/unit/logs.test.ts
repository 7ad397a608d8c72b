import { describe, expect, it } from 'vitest';
import { demuxDockerLogs, tailLines } from '../../lab/engine/logStream.ts';

function frame(stream: number, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('demuxDockerLogs', () => {
  it('splits multiplexed frames into stdout and stderr, merging neighbours of one stream', () => {
    const buf = Buffer.concat([frame(1, 'a\n'), frame(1, 'b\n'), frame(2, 'oops\n'), frame(1, 'c\n')]);
    expect(demuxDockerLogs(buf)).toEqual([
      { stream: 'stdout', text: 'a\nb\n' },
      { stream: 'stderr', text: 'oops\n' },
      { stream: 'stdout', text: 'c\n' },
    ]);
  });

  it('keeps multi-byte characters split across frames whole per frame', () => {
    expect(demuxDockerLogs(frame(1, 'ünïcode ↔\n'))).toEqual([{ stream: 'stdout', text: 'ünïcode ↔\n' }]);
  });

  it('treats a response without frame headers (a TTY container) as plain stdout', () => {
    expect(demuxDockerLogs(Buffer.from('{"ready": true}\n'))).toEqual([{ stream: 'stdout', text: '{"ready": true}\n' }]);
    expect(demuxDockerLogs(Buffer.alloc(0))).toEqual([]);
  });

  it('keeps a truncated tail as text instead of dropping it', () => {
    const buf = Buffer.concat([frame(1, 'ok\n'), Buffer.from('xyz')]);
    expect(demuxDockerLogs(buf)).toEqual([
      { stream: 'stdout', text: 'ok\n' },
      { stream: 'stdout', text: 'xyz' },
    ]);
  });
});

describe('tailLines', () => {
  it('keeps the last n lines and the final newline', () => {
    expect(tailLines('a\nb\nc\n', 2)).toBe('b\nc\n');
    expect(tailLines('a\nb\nc', 2)).toBe('b\nc');
    expect(tailLines('a\nb\n', 5)).toBe('a\nb\n');
    expect(tailLines('a\nb\n', 0)).toBe('');
    expect(tailLines('a\nb\n', undefined)).toBe('a\nb\n');
  });
});
