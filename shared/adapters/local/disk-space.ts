/**
 * Free space on the data directory's filesystem, as local mode's ingest path needs to know it.
 *
 * Ingest is refused (503 + Retry-After) while free space is below a reserve, so the writer and the
 * compactor always have room to turn the spool into Parquet: without it, posters refill any space freed
 * on a full disk with spool data before the writer gets to it, and stored events never catch up. A
 * filesystem that refuses writes (read-only, I/O errors) refuses ingest the same way, until a small probe
 * write succeeds again.
 *
 * Cheap: statfs runs on a timer (every refreshMs, four times as often while ingest is refused), right
 * after a write fails with ENOSPC, and right after space was reclaimed; never per request. Between two
 * statfs calls the bytes the spool and the store write are subtracted from the last figure, so a burst of
 * posts cannot run far past the reserve before the next look.
 */
import { open, statfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../ports/logger.js';

/** The filesystem calls DiskSpace makes (replaced in tests to inject faults). */
export interface DiskSpaceFs {
  statfs: (path: string) => Promise<{ bavail: number; bsize: number; blocks: number }>;
  /** Writes, syncs and removes a small file in dir: does the filesystem take writes again? */
  probe: (dir: string) => Promise<void>;
}

export const nodeDiskSpaceFs: DiskSpaceFs = {
  statfs: (path) => statfs(path),
  probe: async (dir) => {
    const path = join(dir, '.write-probe');
    const fh = await open(path, 'w');
    try {
      await fh.writeFile('probe');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await unlink(path);
  },
};

export interface DiskSpaceOptions {
  /** The data directory (it must exist). */
  dir: string;
  /** The reserve is the smaller of reserveBytes and reservePercent of the filesystem's size; 0 turns it off. */
  reserveBytes: number;
  reservePercent: number;
  logger: Logger;
  /** How often statfs runs while all is well (default 1000 ms). */
  refreshMs?: number;
  /** Where the reserve is set (named in the log line when ingest starts being refused). */
  reserveSetting?: string;
  fs?: DiskSpaceFs;
}

export interface DiskStatus {
  /** Free bytes for an unprivileged writer (statfs's f_bavail), less what was written since that look. */
  freeBytes: number;
  totalBytes: number;
  /** Ingest is refused while freeBytes is below this. */
  reserveBytes: number;
  /** False while writes fail with EROFS or EIO; see `error`. */
  writable: boolean;
  /** The error code writes fail with, while they do. */
  error?: string;
  /** When statfs last answered (ms since the epoch). */
  checkedAt: number;
}

/** Why ingest cannot take more now: a short reason (for /health) and the message a client reads. */
export interface DiskRefusal {
  reason: string;
  message: string;
}

/** Error codes after which the filesystem is taken as refusing writes until a probe write succeeds. */
const UNWRITABLE = new Set(['EROFS', 'EIO']);
const FULL = new Set(['ENOSPC', 'EDQUOT']);

const MiB = 1024 * 1024;
const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

/** The errno code of an error or of the first cause that has one. */
export function errorCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

export class DiskSpace {
  readonly fs: DiskSpaceFs;
  private readonly dir: string;
  private readonly logger: Logger;
  private readonly refreshMs: number;
  private readonly reserveBytes: number;
  private readonly reservePercent: number;
  private readonly reserveSetting: string | undefined;
  private free = 0;
  private total = 0;
  private checkedAt = 0;
  private unwritable: string | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private statfsFailing = false;
  private readonly listeners = new Set<() => void>();

  private constructor(opts: DiskSpaceOptions) {
    this.dir = opts.dir;
    this.logger = opts.logger;
    this.fs = { ...(opts.fs ?? nodeDiskSpaceFs) };
    this.refreshMs = opts.refreshMs ?? 1000;
    this.reserveBytes = opts.reserveBytes;
    this.reservePercent = opts.reservePercent;
    this.reserveSetting = opts.reserveSetting;
  }

  /** Takes a first look at the filesystem, then keeps looking on a timer until close(). */
  static async open(opts: DiskSpaceOptions): Promise<DiskSpace> {
    const disk = new DiskSpace(opts);
    await disk.refresh();
    disk.schedule();
    return disk;
  }

  /** The reserve for the filesystem's current size. */
  get reserve(): number {
    return Math.min(this.reserveBytes, Math.floor((this.total * this.reservePercent) / 100));
  }

  status(): DiskStatus {
    return {
      freeBytes: Math.max(0, this.free),
      totalBytes: this.total,
      reserveBytes: this.reserve,
      writable: this.unwritable === undefined,
      ...(this.unwritable ? { error: this.unwritable } : {}),
      checkedAt: this.checkedAt,
    };
  }

  /** Why `bytes` more cannot be taken in now, or undefined when they can. Cached: no I/O. */
  refusal(bytes = 0): DiskRefusal | undefined {
    if (this.unwritable) {
      return {
        reason: `data directory not writable (${this.unwritable})`,
        message: `the data directory cannot be written (${this.unwritable}); ingest resumes by itself once it can`,
      };
    }
    const reserve = this.reserve;
    if (reserve > 0 && this.free - bytes < reserve) {
      return {
        reason: 'disk below reserve',
        message: `free disk space (${mib(Math.max(0, this.free))}) is below the reserve kept for writing stored events (${mib(reserve)}); ingest resumes by itself once space is freed`,
      };
    }
    return undefined;
  }

  /** `bytes` were written to the filesystem: counted until the next statfs, and writes evidently work. */
  wrote(bytes: number): void {
    this.free -= bytes;
    if (this.unwritable) {
      this.logger.info('the data directory takes writes again', { was: this.unwritable });
      this.unwritable = undefined;
      this.improved();
    }
  }

  /** A write failed: a full disk is looked at again at once; a read-only or failing one is probed until it takes writes. */
  failed(err: unknown): void {
    const code = errorCode(err);
    if (code && FULL.has(code)) {
      this.free = Math.min(this.free, 0);
      void this.refresh();
    } else if (code && UNWRITABLE.has(code) && !this.unwritable) {
      this.unwritable = code;
      this.logger.error('the data directory refuses writes; ingest is refused until a probe write succeeds', { error: code });
      this.reschedule();
    }
  }

  /** Space was given back (spool segments, compacted files deleted): look again now rather than at the next tick. */
  reclaimed(): void {
    void this.refresh();
  }

  /** Calls `listener` whenever space or writability improves (the writer retries at once instead of sleeping out its backoff). */
  onImproved(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Looks at the filesystem now (one statfs; a probe write while it refuses writes). Concurrent calls share one look. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        await this.look();
      } while (this.refreshAgain && !this.closed);
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.listeners.clear();
  }

  private async look(): Promise<void> {
    const before = this.status();
    const wasRefusing = this.refusal() !== undefined;
    try {
      const s = await this.fs.statfs(this.dir);
      this.free = s.bavail * s.bsize;
      this.total = s.blocks * s.bsize;
      this.checkedAt = Date.now();
      if (this.statfsFailing) this.logger.info('statfs on the data directory works again');
      this.statfsFailing = false;
    } catch (err) {
      // Keep the last figures: a failing statfs says nothing about the space.
      if (!this.statfsFailing) this.logger.warn('statfs on the data directory failed; keeping the last figures', { error: errorCode(err) ?? String(err) });
      this.statfsFailing = true;
    }
    if (this.unwritable) {
      try {
        await this.fs.probe(this.dir);
        this.logger.info('the data directory takes writes again', { was: this.unwritable });
        this.unwritable = undefined;
      } catch {
        // still refusing writes; the next look probes again
      }
    }
    const refusing = this.refusal() !== undefined;
    if (wasRefusing && !refusing) this.logger.info('the data directory has room again; ingest accepts', { freeBytes: this.free, reserveBytes: this.reserve });
    if (!wasRefusing && refusing) {
      this.logger.warn('ingest refused until the data directory has room again', {
        reason: this.refusal()!.reason,
        freeBytes: Math.max(0, this.free),
        reserveBytes: this.reserve,
        ...(this.reserveSetting ? { reserve: this.reserveSetting } : {}),
      });
    }
    // Improved: writable again, or meaningfully more room (a writer waiting on ENOSPC may fit now).
    const step = Math.min(MiB, Math.max(64 * 1024, this.total / 100));
    if ((!before.writable && this.unwritable === undefined) || this.free - before.freeBytes >= step || (wasRefusing && !refusing)) this.improved();
  }

  private improved(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (err) {
        this.logger.error('a listener of disk space failed', { error: String(err) });
      }
    }
  }

  private schedule(): void {
    if (this.closed) return;
    const constrained = this.refusal() !== undefined;
    this.timer = setTimeout(
      () => {
        void this.refresh().finally(() => this.schedule());
      },
      constrained ? Math.max(50, this.refreshMs / 4) : this.refreshMs,
    );
    this.timer.unref();
  }

  /** Looks sooner when the state just turned bad (the constrained interval applies from now). */
  private reschedule(): void {
    if (this.closed || !this.timer) return;
    clearTimeout(this.timer);
    this.schedule();
  }
}
