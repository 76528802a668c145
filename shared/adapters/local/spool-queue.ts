/**
 * The local queue: an append-only spool of framed records in segment files.
 *
 *   seg-<n>.log     frames: u32 length | u32 crc32(payload) | payload (UTF-8 message body)
 *   cursor.json     the position up to which records are acknowledged (stored by the writer)
 *   inflight.json   the exact range of the batch being written, recorded before the writer starts, so that
 *                   after a crash the same records are replayed as the same batch (same object keys)
 *   dead-letter.ndjson  records the writer can never store, with the reason
 *
 * send() resolves only after the frames are fsynced (group commit: concurrent sends share one fsync).
 * A torn frame at the tail (a crash mid-write, before the ack) is cut off when the spool is opened.
 *
 * Space comes back as soon as it is stored: segments are small (4 MiB), a segment is deleted once every
 * record in it is acknowledged, and when the writer has caught up the spool moves on to a fresh segment so
 * that the last one goes too. With a DiskSpace, send() refuses (UnavailableError) while free space is below
 * its reserve or the filesystem refuses writes, so the writer always has room to turn the spool into Parquet.
 */
import { crc32 } from 'node:zlib';
import { mkdir, open, readdir, readFile, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { UnavailableError } from '../../domain/errors.js';
import type { Logger } from '../../ports/logger.js';
import type { Queue, QueueRecord } from '../../ports/queue.js';
import type { DiskSpace } from './disk-space.js';
import { fsyncDir, isNotFound, isStorageFull, writeFileAtomic } from './fs-util.js';

const HEADER = 8;

export interface SpoolPosition {
  seg: number;
  off: number;
}

export interface SpoolBatch {
  start: SpoolPosition;
  end: SpoolPosition;
  records: QueueRecord[];
  bytes: number;
}

export interface SpoolOptions {
  dir: string;
  logger: Logger;
  maxMessageBytes?: number;
  segmentBytes?: number;
  /** Unacknowledged bytes above which send() refuses with UnavailableError (backpressure). */
  maxPendingBytes?: number;
  /** The data directory's free space: send() refuses below its reserve, and the spool reports what it writes and frees. */
  space?: Pick<DiskSpace, 'refusal' | 'wrote' | 'failed' | 'reclaimed'>;
}

/** Why the spool would refuse a send now: a short reason (for /health) and the error the client gets. */
export interface SpoolRefusal {
  reason: string;
  error: UnavailableError;
}

interface PendingWrite {
  frames: Buffer[];
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const segName = (seg: number) => `seg-${String(seg).padStart(12, '0')}.log`;
const recordId = (p: SpoolPosition) => `${String(p.seg).padStart(12, '0')}:${p.off}`;

function frame(body: string): Buffer {
  const payload = Buffer.from(body, 'utf8');
  const buf = Buffer.allocUnsafe(HEADER + payload.length);
  buf.writeUInt32LE(payload.length, 0);
  buf.writeUInt32LE(crc32(payload), 4);
  payload.copy(buf, HEADER);
  return buf;
}

export class SpoolQueue implements Queue {
  readonly maxMessageBytes: number;
  private readonly segmentBytes: number;
  private readonly maxPendingBytes: number;
  private writeSeg = 1;
  private writePos = 0;
  private writer: FileHandle | undefined;
  private cursor: SpoolPosition = { seg: 1, off: 0 };
  private inflight: (SpoolBatch & { attempts: number }) | undefined;
  private recoveredInflight: { start: SpoolPosition; end: SpoolPosition; attempts: number } | undefined;
  private pending: PendingWrite[] = [];
  private flushing = false;
  /**
   * Set when a failed write could not be cut off: bytes past writePos that must be truncated before
   * anything else is written (or the segment rolled), or a restart could take them for records.
   */
  private dirtyTail = false;
  /** The writer caught up: move to a fresh segment so the acknowledged one can be deleted. */
  private reclaimWanted = false;
  /** commit() calls waiting for that to be done. */
  private reclaimWaiters: (() => void)[] = [];
  private readonly space: SpoolOptions['space'];
  private closed = false;
  private unackedBytes = 0;
  private oldestUnackedAt: number | undefined;
  /** When the first record after the current batch's end was appended. */
  private appendedSinceRead: number | undefined;

  private constructor(
    private readonly dir: string,
    private readonly logger: Logger,
    opts: SpoolOptions,
  ) {
    this.maxMessageBytes = opts.maxMessageBytes ?? 4 * 1024 * 1024;
    this.segmentBytes = opts.segmentBytes ?? 4 * 1024 * 1024;
    this.maxPendingBytes = opts.maxPendingBytes ?? 1024 * 1024 * 1024;
    this.space = opts.space;
  }

  static async open(opts: SpoolOptions): Promise<SpoolQueue> {
    const spool = new SpoolQueue(opts.dir, opts.logger, opts);
    await spool.recover();
    return spool;
  }

  // ---------------------------------------------------------------- producer

  /** Why a send of `bytes` would be refused now, or undefined when it would be taken. No I/O. */
  refusal(bytes = 0): SpoolRefusal | undefined {
    if (this.closed) return { reason: 'shutting down', error: new UnavailableError('the queue is shutting down; retry shortly', 1) };
    if (this.unackedBytes > this.maxPendingBytes) {
      return { reason: 'spool backlog over its limit', error: new UnavailableError('the queue is full because the writer is behind; retry shortly', 5) };
    }
    const disk = this.space?.refusal(bytes);
    if (disk) return { reason: disk.reason, error: new UnavailableError(disk.message, 5) };
    return undefined;
  }

  async send(bodies: readonly string[]): Promise<void> {
    const frames = bodies.map((b) => {
      if (b.length === 0) throw new Error('empty messages are not queued');
      if (Buffer.byteLength(b) > this.maxMessageBytes) throw new Error(`message exceeds ${this.maxMessageBytes} bytes`);
      return frame(b);
    });
    const bytes = frames.reduce((n, f) => n + f.length, 0);
    const refused = this.refusal(bytes);
    if (refused) throw refused.error;
    await new Promise<void>((resolve, reject) => {
      this.pending.push({ frames, bytes, resolve, reject });
      void this.flush();
    });
  }

  /** The one writer of segment files: appends groups of frames, and moves to a fresh segment when asked to reclaim. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pending.length > 0 || this.reclaimWanted) {
        if (this.reclaimWanted) {
          await this.reclaim();
          continue;
        }
        const group = this.pending;
        this.pending = [];
        await this.append(group);
      }
    } finally {
      this.flushing = false;
    }
  }

  private async append(group: PendingWrite[]): Promise<void> {
    const bytes = group.reduce((n, w) => n + w.bytes, 0);
    let before = this.writePos;
    try {
      await this.cleanTail();
      if (this.writePos > 0 && this.writePos + bytes > this.segmentBytes) {
        await this.roll();
        before = 0;
      }
      const frames = group.flatMap((w) => w.frames);
      const writer = this.writer!;
      let pos = this.writePos;
      // writev may write less than asked; loop until all frames are out.
      let remaining = frames;
      while (remaining.length > 0) {
        const { bytesWritten } = await writer.writev(remaining, pos);
        pos += bytesWritten;
        remaining = dropBytes(remaining, bytesWritten);
      }
      await writer.datasync();
      this.writePos = pos;
      this.unackedBytes += bytes;
      this.space?.wrote(bytes);
      const now = Date.now();
      this.oldestUnackedAt ??= now;
      this.appendedSinceRead ??= now;
      for (const w of group) w.resolve();
    } catch (err) {
      // Cut off whatever part of the group reached the file, so later frames do not follow garbage; when
      // even that fails (a read-only filesystem), it is done before the next write.
      this.dirtyTail = true;
      this.writePos = before;
      await this.cleanTail().catch(() => undefined);
      this.space?.failed(err);
      const wrapped = isStorageFull(err) ? new UnavailableError(`the queue cannot write to disk: ${(err as Error).message}`, 5, { cause: err }) : err;
      this.logger.error('spool write failed', { error: (err as Error).message });
      for (const w of group) w.reject(wrapped);
    }
  }

  /** Truncates the open segment to writePos after a failed write (rejects while the filesystem refuses). */
  private async cleanTail(): Promise<void> {
    if (!this.dirtyTail) return;
    await this.writer!.truncate(this.writePos);
    this.dirtyTail = false;
  }

  /**
   * Opens the next segment; the current one stays open for writing until the new one exists, so a
   * failure here (a full or read-only disk) leaves the spool as it was.
   */
  private async roll(): Promise<void> {
    const next = this.writeSeg + 1;
    const path = join(this.dir, segName(next));
    // Not append mode: positioned writes must land where writePos says (O_APPEND ignores positions).
    const fh = await open(path, 'w+');
    try {
      await fsyncDir(this.dir);
    } catch (err) {
      await fh.close().catch(() => undefined);
      await unlink(path).catch(() => undefined);
      throw err;
    }
    await this.writer?.close().catch(() => undefined);
    this.writer = fh;
    this.writeSeg = next;
    this.writePos = 0;
  }

  /**
   * The writer has acknowledged everything written: move to a fresh segment and delete the old one now,
   * rather than when the segment would have filled (on a nearly full disk, that space is what the writer
   * and the posters wait for). Runs inside flush(), the only writer of segments.
   */
  private async reclaim(): Promise<void> {
    this.reclaimWanted = false;
    const waiters = this.reclaimWaiters.splice(0);
    try {
      const caughtUp = this.cursor.seg === this.writeSeg && this.cursor.off === this.writePos && this.writePos > 0 && !this.inflight;
      if (!caughtUp || this.closed) return;
      try {
        await this.cleanTail();
        await this.roll();
      } catch (err) {
        // The segment is deleted once a later batch's commit moves the cursor past it.
        this.logger.warn('spool: could not start a fresh segment to give back acknowledged space', { error: (err as Error).message });
        return;
      }
      // Everything before the new segment is acknowledged: the position is the same record boundary.
      this.cursor = { seg: this.writeSeg, off: 0 };
      await this.deleteAcknowledged();
    } finally {
      for (const done of waiters) done();
    }
  }

  /** Deletes the segments every record of which is acknowledged (never the one being written). */
  private async deleteAcknowledged(): Promise<void> {
    let freed = false;
    for (const name of await readdir(this.dir)) {
      const seg = segNumber(name);
      if (seg !== undefined && seg < this.cursor.seg && seg < this.writeSeg) {
        await unlink(join(this.dir, name)).then(
          () => (freed = true),
          () => undefined,
        );
      }
    }
    if (freed) this.space?.reclaimed();
  }

  // ---------------------------------------------------------------- consumer

  /** Bytes accepted but not yet acknowledged by the writer. */
  get pendingBytes(): number {
    return this.unackedBytes;
  }

  /** When the oldest unacknowledged record was accepted (ms), or undefined when there is none. */
  get oldestPendingAt(): number | undefined {
    return this.unackedBytes > 0 ? this.oldestUnackedAt : undefined;
  }

  /**
   * The next batch, starting at the acknowledged position: up to maxBytes (at least one record).
   * After a crash the first batch is exactly the one that was in flight, so it is written again under the
   * same keys. Returns undefined when nothing is pending.
   */
  async nextBatch(maxBytes: number): Promise<SpoolBatch | undefined> {
    if (this.inflight) return this.inflight;
    let batch: SpoolBatch | undefined;
    let attempts = 0;
    if (this.recoveredInflight) {
      batch = await this.read(this.recoveredInflight.start, Number.POSITIVE_INFINITY, this.recoveredInflight.end);
      attempts = this.recoveredInflight.attempts;
      this.recoveredInflight = undefined;
    } else {
      batch = await this.read(this.cursor, maxBytes);
    }
    if (!batch || batch.records.length === 0) return undefined;
    this.appendedSinceRead = undefined;
    this.inflight = { ...batch, attempts };
    return this.inflight;
  }

  /** Records the batch's range durably before it is written, and counts the delivery attempt. */
  async begin(batch: SpoolBatch): Promise<void> {
    if (batch !== this.inflight) throw new Error('begin() takes the batch returned by nextBatch()');
    this.inflight.attempts += 1;
    for (const r of batch.records) r.attempt = this.inflight.attempts;
    await writeFileAtomic(join(this.dir, 'inflight.json'), JSON.stringify({ start: batch.start, end: batch.end, attempts: this.inflight.attempts }));
  }

  /** Acknowledges the whole batch: its records will not be delivered again. */
  async commit(batch: SpoolBatch): Promise<void> {
    if (batch !== this.inflight) throw new Error('commit() takes the batch returned by nextBatch()');
    await writeFileAtomic(join(this.dir, 'cursor.json'), JSON.stringify(batch.end));
    await unlink(join(this.dir, 'inflight.json')).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
    this.cursor = batch.end;
    this.inflight = undefined;
    this.unackedBytes = Math.max(0, this.unackedBytes - batch.bytes);
    this.oldestUnackedAt = this.unackedBytes > 0 ? (this.appendedSinceRead ?? Date.now()) : undefined;
    await this.deleteAcknowledged();
    if (this.cursor.seg === this.writeSeg && this.cursor.off === this.writePos && this.writePos > 0 && !this.closed) {
      // Done by the flush loop, the one writer of segments, before the next group it writes.
      await new Promise<void>((resolve) => {
        this.reclaimWaiters.push(resolve);
        this.reclaimWanted = true;
        void this.flush();
      });
    }
  }

  /** Sets records aside for good, with the reason, before their batch is committed. */
  async deadLetter(records: readonly { record: QueueRecord; reason: string }[]): Promise<void> {
    if (records.length === 0) return;
    const fh = await open(join(this.dir, 'dead-letter.ndjson'), 'a');
    try {
      const at = new Date().toISOString();
      await fh.writeFile(records.map(({ record, reason }) => `${JSON.stringify({ id: record.id, at, reason, body: record.body })}\n`).join(''));
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing || this.pending.length > 0) await new Promise((r) => setTimeout(r, 5));
    await this.writer?.close();
    this.writer = undefined;
  }

  // ---------------------------------------------------------------- reading and recovery

  /** Reads records from `from`, stopping at `until`, at maxBytes (after at least one), or at the durable end. */
  private async read(from: SpoolPosition, maxBytes: number, until?: SpoolPosition): Promise<SpoolBatch | undefined> {
    const records: QueueRecord[] = [];
    let bytes = 0;
    let pos = { ...from };
    while (true) {
      if (until && pos.seg === until.seg && pos.off >= until.off) break;
      if (until && pos.seg > until.seg) break;
      const segEnd = pos.seg === this.writeSeg ? this.writePos : await this.segmentSize(pos.seg);
      if (segEnd === undefined) {
        // A segment given back after it was acknowledged (see reclaim): the records go on in the next one.
        if (pos.seg >= this.writeSeg) break;
        pos = { seg: pos.seg + 1, off: 0 };
        continue;
      }
      if (pos.off >= segEnd) {
        if (pos.seg >= this.writeSeg) break;
        pos = { seg: pos.seg + 1, off: 0 };
        continue;
      }
      const fh = await open(join(this.dir, segName(pos.seg)), 'r');
      try {
        while (pos.off < segEnd && (records.length === 0 || bytes < maxBytes)) {
          if (until && pos.seg === until.seg && pos.off >= until.off) break;
          const header = Buffer.alloc(HEADER);
          await fh.read(header, 0, HEADER, pos.off);
          const len = header.readUInt32LE(0);
          if (len === 0 || pos.off + HEADER + len > segEnd) {
            throw new Error(`spool record at ${segName(pos.seg)}:${pos.off} is damaged (length ${len}); restart to repair the spool`);
          }
          const payload = Buffer.alloc(len);
          await fh.read(payload, 0, len, pos.off + HEADER);
          if (crc32(payload) !== header.readUInt32LE(4)) {
            throw new Error(`spool record at ${segName(pos.seg)}:${pos.off} fails its checksum; restart to repair the spool`);
          }
          records.push({ id: recordId(pos), body: payload.toString('utf8'), attempt: 1 });
          bytes += HEADER + len;
          pos = { seg: pos.seg, off: pos.off + HEADER + len };
        }
      } finally {
        await fh.close();
      }
      if (records.length > 0 && bytes >= maxBytes) break;
    }
    if (records.length === 0) return undefined;
    return { start: { ...from }, end: pos, records, bytes };
  }

  private async segmentSize(seg: number): Promise<number | undefined> {
    try {
      return (await stat(join(this.dir, segName(seg)))).size;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async recover(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const segs = (await readdir(this.dir))
      .map(segNumber)
      .filter((n): n is number => n !== undefined)
      .sort((a, b) => a - b);
    this.cursor = (await readJson<SpoolPosition>(join(this.dir, 'cursor.json'))) ?? { seg: segs[0] ?? 1, off: 0 };
    const inflight = await readJson<{ start: SpoolPosition; end: SpoolPosition; attempts: number }>(join(this.dir, 'inflight.json'));
    for (const seg of segs) {
      if (seg < this.cursor.seg) await unlink(join(this.dir, segName(seg)));
    }
    const live = segs.filter((s) => s >= this.cursor.seg);
    // The cursor's segment was deleted once fully acknowledged (the writer had caught up): the next
    // segment starts at a record boundary. Never reopen the cursor's number, or record ids would repeat.
    if (live.length > 0 && live[0] !== this.cursor.seg) this.cursor = { seg: live[0]!, off: 0 };
    else if (live.length === 0 && this.cursor.off > 0) this.cursor = { seg: this.cursor.seg + 1, off: 0 };
    let unacked = 0;
    const salvaged: Buffer[] = [];
    for (const seg of live) {
      const from = seg === this.cursor.seg ? this.cursor.off : 0;
      const { validEnd, size, rest, skipped } = await this.scan(seg, from);
      if (validEnd < size) {
        const path = join(this.dir, segName(seg));
        if (rest.length > 0 || skipped > 0) {
          // Damage in the middle: valid records follow it. Keep them (moved to a new segment at the end)
          // and set the damaged bytes aside; nothing that was acknowledged is dropped.
          const damaged = (await readFile(path)).subarray(validEnd, validEnd + skipped);
          await writeFileAtomic(join(this.dir, `damaged-${segName(seg)}-${validEnd}.bin`), damaged);
          salvaged.push(...rest);
          this.logger.error('spool: damaged bytes inside a segment were set aside; the records after them are kept', {
            segment: segName(seg),
            offset: validEnd,
            damagedBytes: skipped,
            recordsKept: rest.length,
          });
        } else {
          this.logger.warn('spool: cutting a torn record at the tail (it was never acknowledged)', {
            segment: segName(seg),
            offset: validEnd,
            bytes: size - validEnd,
          });
        }
        const fh = await open(path, 'r+');
        await fh.truncate(validEnd);
        await fh.sync();
        await fh.close();
      }
      unacked += validEnd - from;
    }
    if (salvaged.length > 0) {
      const seg = (live.at(-1) ?? this.cursor.seg) + 1;
      const fh = await open(join(this.dir, segName(seg)), 'w+');
      await fh.writev(salvaged);
      await fh.sync();
      await fh.close();
      await fsyncDir(this.dir);
      live.push(seg);
      unacked += salvaged.reduce((n, b) => n + b.length, 0);
    }
    this.writeSeg = live.at(-1) ?? this.cursor.seg;
    const writePath = join(this.dir, segName(this.writeSeg));
    this.writer = await open(writePath, 'a+'); // creates the file when there is none
    await this.writer.close();
    this.writer = await open(writePath, 'r+');
    await fsyncDir(this.dir);
    this.writePos = (await this.writer.stat()).size;
    this.unackedBytes = unacked;
    // Anything left from before a restart is flushed as soon as the writer looks.
    this.oldestUnackedAt = unacked > 0 ? 0 : undefined;
    // A batch that was committed just before the crash left a stale inflight.json behind: ignore it.
    if (inflight && unacked > 0 && samePos(inflight.start, this.cursor)) this.recoveredInflight = inflight;
    if (unacked > 0) this.logger.info('spool: replaying records accepted before the restart', { bytes: unacked });
  }

  /**
   * Walks the frames of a segment from an offset. Returns where the valid frames end; when damage is
   * followed by more valid frames, also the bytes skipped and those later frames.
   */
  private async scan(seg: number, from: number): Promise<{ validEnd: number; size: number; skipped: number; rest: Buffer[] }> {
    const data = await readFile(join(this.dir, segName(seg)));
    const frameAt = (pos: number): number | undefined => {
      if (pos + HEADER > data.length) return undefined;
      const len = data.readUInt32LE(pos);
      if (len === 0 || pos + HEADER + len > data.length) return undefined;
      return crc32(data.subarray(pos + HEADER, pos + HEADER + len)) === data.readUInt32LE(pos + 4) ? HEADER + len : undefined;
    };
    let pos = from;
    for (let n = frameAt(pos); n !== undefined; n = frameAt(pos)) pos += n;
    const validEnd = pos;
    // Look for valid frames after the damage (a crash only ever tears the tail, so any are real data).
    const rest: Buffer[] = [];
    let skipped = 0;
    let scanPos = validEnd + 1;
    while (scanPos + HEADER < data.length) {
      const n = frameAt(scanPos);
      if (n === undefined) {
        scanPos++;
        continue;
      }
      if (rest.length === 0) skipped = scanPos - validEnd;
      rest.push(Buffer.from(data.subarray(scanPos, scanPos + n)));
      scanPos += n;
    }
    return { validEnd, size: data.length, skipped, rest };
  }
}

function samePos(a: SpoolPosition, b: SpoolPosition): boolean {
  return a.seg === b.seg && a.off === b.off;
}

function segNumber(name: string): number | undefined {
  const m = /^seg-(\d{12})\.log$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function dropBytes(buffers: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  let skip = n;
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    out.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return out;
}
