/**
 * Syslog transport framing → records. Over TCP a message is either octet-counted (`<len> <msg>`, RFC 6587
 * §3.4.1) or ends at a newline (§3.4.2); a sender may use either, so each frame is recognised by how it
 * starts (a syslog message starts with `<`, never with digits and a space). Over UDP a datagram is one
 * message (RFC 5426). Parsing RFC 5424/3164 is the normalizer's job: each message is a text record.
 */
import type { DecodedRecord } from './common.js';
import { TRUNCATED_ATTRIBUTE } from '../normalize/record.js';

/** Frames longer than this are cut (and flagged); the rest of the frame is skipped. */
export const MAX_SYSLOG_FRAME_BYTES = 256 * 1024;

export interface SyslogFrame {
  text: string;
  truncated: boolean;
}

const SPACE = 0x20;
const NEWLINE = 0x0a;
const MAX_LENGTH_DIGITS = 9;

function clean(bytes: Buffer): string {
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0d || bytes[end - 1] === 0x0a || bytes[end - 1] === 0x00)) end--;
  return bytes.subarray(0, end).toString('utf8');
}

/** Splits a TCP byte stream into messages; keeps partial frames between chunks. */
export class SyslogStreamFramer {
  private buf: Buffer = Buffer.alloc(0);
  /** Bytes still to skip of a frame that was cut. */
  private skipOctets = 0;
  private skipToNewline = false;

  constructor(private readonly maxFrameBytes = MAX_SYSLOG_FRAME_BYTES) {}

  push(chunk: Buffer): SyslogFrame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: SyslogFrame[] = [];
    for (;;) {
      if (this.skipOctets > 0) {
        const n = Math.min(this.skipOctets, this.buf.length);
        this.buf = this.buf.subarray(n);
        this.skipOctets -= n;
        if (this.skipOctets > 0) break;
      }
      if (this.skipToNewline) {
        const nl = this.buf.indexOf(NEWLINE);
        if (nl < 0) {
          this.buf = Buffer.alloc(0);
          break;
        }
        this.buf = this.buf.subarray(nl + 1);
        this.skipToNewline = false;
      }
      // Separators between frames (blank lines, stray CR/NUL) carry nothing.
      let start = 0;
      while (start < this.buf.length && (this.buf[start] === NEWLINE || this.buf[start] === 0x0d || this.buf[start] === 0x00)) start++;
      this.buf = this.buf.subarray(start);
      if (this.buf.length === 0) break;

      const counted = this.octetCount();
      if (counted === 'need-more') break;
      if (counted !== undefined) {
        const { length, headerBytes } = counted;
        const available = this.buf.length - headerBytes;
        if (length <= this.maxFrameBytes) {
          if (available < length) break;
          const text = clean(this.buf.subarray(headerBytes, headerBytes + length));
          if (text !== '') out.push({ text, truncated: false });
          this.buf = this.buf.subarray(headerBytes + length);
          continue;
        }
        // Longer than is kept: cut it and skip the rest of the frame.
        if (available < this.maxFrameBytes) break;
        out.push({ text: clean(this.buf.subarray(headerBytes, headerBytes + this.maxFrameBytes)), truncated: true });
        this.buf = this.buf.subarray(headerBytes + this.maxFrameBytes);
        this.skipOctets = length - this.maxFrameBytes;
        continue;
      }

      const nl = this.buf.indexOf(NEWLINE);
      if (nl < 0) {
        if (this.buf.length > this.maxFrameBytes) {
          out.push({ text: clean(this.buf.subarray(0, this.maxFrameBytes)), truncated: true });
          this.buf = Buffer.alloc(0);
          this.skipToNewline = true;
        }
        break;
      }
      if (nl > this.maxFrameBytes) {
        out.push({ text: clean(this.buf.subarray(0, this.maxFrameBytes)), truncated: true });
      } else {
        const text = clean(this.buf.subarray(0, nl));
        if (text !== '') out.push({ text, truncated: false });
      }
      this.buf = this.buf.subarray(nl + 1);
    }
    return out;
  }

  /** The connection ended: whatever is left is the last message (a sender may omit the final newline). */
  end(): SyslogFrame[] {
    const rest = this.skipOctets > 0 || this.skipToNewline ? '' : clean(this.buf.subarray(0, this.maxFrameBytes));
    const truncated = this.buf.length > this.maxFrameBytes;
    this.buf = Buffer.alloc(0);
    const counted = /^(\d{1,9}) /.exec(rest);
    const text = counted ? rest.slice(counted[0].length) : rest;
    return text.trim() === '' ? [] : [{ text, truncated }];
  }

  /** `<digits><space>` at the start: the frame's length. undefined: not octet-counted. */
  private octetCount(): { length: number; headerBytes: number } | 'need-more' | undefined {
    let i = 0;
    while (i < this.buf.length && i <= MAX_LENGTH_DIGITS && this.buf[i]! >= 0x30 && this.buf[i]! <= 0x39) i++;
    if (i === 0 || i > MAX_LENGTH_DIGITS) return undefined;
    if (i === this.buf.length) return 'need-more';
    if (this.buf[i] !== SPACE || this.buf[0] === 0x30) return undefined;
    return { length: Number(this.buf.subarray(0, i).toString('latin1')), headerBytes: i + 1 };
  }
}

/** One UDP datagram: one message. */
export function datagramFrame(datagram: Buffer, maxFrameBytes = MAX_SYSLOG_FRAME_BYTES): SyslogFrame | undefined {
  const truncated = datagram.length > maxFrameBytes;
  const text = clean(truncated ? datagram.subarray(0, maxFrameBytes) : datagram);
  return text.trim() === '' ? undefined : { text, truncated };
}

/** Frames as text records for the ingest service; format detection (RFC 5424/3164) runs on each. */
export function syslogRecords(frames: readonly SyslogFrame[]): DecodedRecord[] {
  return frames.map((f, index) => ({
    index,
    kind: 'text',
    line: f.text,
    hints: f.truncated ? { source: 'syslog', attributes: { [TRUNCATED_ATTRIBUTE]: 'message' } } : { source: 'syslog' },
  }));
}
