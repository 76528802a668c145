import { describe, expect, it } from 'vitest';
import { SyslogStreamFramer, datagramFrame, syslogRecords } from '../../../shared/domain/shippers/syslog.js';

const texts = (frames: { text: string }[]) => frames.map((f) => f.text);

/** Feeds the stream in every possible two-piece split and checks the frames never depend on it. */
function framesOf(stream: string, max?: number): string[] {
  const whole = new SyslogStreamFramer(max);
  const expected = [...texts(whole.push(Buffer.from(stream))), ...texts(whole.end())];
  const bytes = Buffer.from(stream);
  for (let cut = 1; cut < bytes.length; cut++) {
    const f = new SyslogStreamFramer(max);
    const got = [...texts(f.push(bytes.subarray(0, cut))), ...texts(f.push(bytes.subarray(cut))), ...texts(f.end())];
    expect(got, `split at ${cut}`).toEqual(expected);
  }
  return expected;
}

const M1 = '<34>1 2003-10-11T22:14:15.003Z mymachine su - ID47 - su root failed';
const M2 = '<13>Oct 11 22:14:15 host app: line with\nno newline inside? yes it has one';

describe('SyslogStreamFramer', () => {
  it('splits newline-framed messages, dropping CR, NUL and blank lines', () => {
    expect(framesOf(`${M1}\r\n\n<13>second\0\n<14>third`)).toEqual([M1, '<13>second', '<14>third']);
  });

  it('reads octet-counted frames, which may contain newlines', () => {
    const stream = `${Buffer.byteLength(M1)} ${M1}${Buffer.byteLength(M2)} ${M2}`;
    expect(framesOf(stream)).toEqual([M1, M2]);
  });

  it('counts octets, not characters', () => {
    const m = '<13>héllo wörld ✓';
    expect(framesOf(`${Buffer.byteLength(m)} ${m}5 <13>x`)).toEqual([m, '<13>x']);
  });

  it('handles both framings on one connection', () => {
    expect(framesOf(`<13>newline framed\n11 <13>counted<13>after\n`)).toEqual(['<13>newline framed', '<13>counted', '<13>after']);
  });

  it('treats digits not followed by a space as an ordinary line', () => {
    expect(framesOf('2024-05-01 message without PRI\n12345\n')).toEqual(['2024-05-01 message without PRI', '12345']);
  });

  it('cuts frames over the limit, flags them, and resynchronises on the next frame', () => {
    const f = new SyslogStreamFramer(10);
    const frames = [...f.push(Buffer.from('0123456789ABCDEF\n<13>ok\n26 <13>counted-but-very-long!<13>next\n')), ...f.end()];
    expect(frames).toEqual([
      { text: '0123456789', truncated: true },
      { text: '<13>ok', truncated: false },
      { text: '<13>counte', truncated: true },
      { text: '<13>next', truncated: false },
    ]);
    const g = new SyslogStreamFramer(10);
    expect([...g.push(Buffer.from('0123456789ABC')), ...g.push(Buffer.from('DEF')), ...g.push(Buffer.from('GH\n<13>ok\n'))]).toEqual([
      { text: '0123456789', truncated: true },
      { text: '<13>ok', truncated: false },
    ]);
  });
});

describe('datagramFrame and syslogRecords', () => {
  it('makes one message of a datagram and text records with the syslog source', () => {
    expect(datagramFrame(Buffer.from(`${M1}\n`))).toEqual({ text: M1, truncated: false });
    expect(datagramFrame(Buffer.from('\n'))).toBeUndefined();
    expect(datagramFrame(Buffer.from('0123456789AB'), 10)).toEqual({ text: '0123456789', truncated: true });
    expect(
      syslogRecords([
        { text: M1, truncated: false },
        { text: 'x', truncated: true },
      ]),
    ).toEqual([
      { index: 0, kind: 'text', line: M1, hints: { source: 'syslog' } },
      { index: 1, kind: 'text', line: 'x', hints: { source: 'syslog', attributes: { 'sluice.truncated': 'message' } } },
    ]);
  });
});
