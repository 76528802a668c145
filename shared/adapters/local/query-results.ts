/**
 * Finished query results on disk, not in the heap: one NDJSON file per query (a JSON array per row) and an
 * index of where each row starts, under `<dir>/<tenant>/`. A page is read back by seeking to its first row
 * and reading no more than a page's bytes, so what a query returned never has to fit in memory at once.
 */
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export interface ResultCaps {
  /** the most bytes one query's result keeps; rows beyond are cut, and the result says so */
  maxResultBytes: number;
  /** the most bytes one page carries (always at least one row); also the most one row may be */
  maxPageBytes: number;
}

/** A row larger than a page may be: the query fails with this, rather than answer what cannot be paged. */
export class RowTooLargeError extends Error {
  override name = 'RowTooLargeError';
}

const MiB = 1024 * 1024;
export const formatBytes = (n: number): string => (n >= MiB ? `${Math.round((n / MiB) * 10) / 10} MiB` : `${Math.ceil(n / 1024)} KiB`);

/** Writes one query's rows as they arrive, in order. */
export class ResultWriter {
  /** start offset of each row, then the end of the last */
  private readonly offsets: number[] = [0];
  private bytes = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** set once the size cap was reached: why, in words */
  truncated: string | undefined;

  private constructor(
    private readonly file: FileHandle,
    readonly path: string,
    private readonly caps: ResultCaps,
  ) {}

  static async create(path: string, caps: ResultCaps): Promise<ResultWriter> {
    return new ResultWriter(await open(`${path}.ndjson`, 'w'), path, caps);
  }

  private count = 0;

  get rows(): number {
    return this.count;
  }

  get size(): number {
    return this.bytes;
  }

  /**
   * Appends rows; false once the result reached its size cap (the rows that did not fit are dropped and
   * `truncated` says so). Throws RowTooLargeError for a row larger than a page may be.
   */
  async add(rows: readonly unknown[]): Promise<boolean> {
    if (this.truncated) return false;
    for (const row of rows) {
      const line = Buffer.from(`${JSON.stringify(row)}\n`, 'utf8');
      if (line.length > this.caps.maxPageBytes) {
        throw new RowTooLargeError(
          `row ${this.rows + 1} of the result is ${formatBytes(line.length)}, larger than a row may be (${formatBytes(this.caps.maxPageBytes)}); select fewer or shorter columns, for example left(message, 1000)`,
        );
      }
      if (this.bytes + line.length > this.caps.maxResultBytes) {
        this.truncated = `the result reached its size cap of ${formatBytes(this.caps.maxResultBytes)} after ${this.rows} rows; the rows after those were not kept: narrow the query, select fewer columns or lower the limit`;
        break;
      }
      this.bytes += line.length;
      this.offsets.push(this.bytes);
      this.count++;
      this.pending.push(line);
      this.pendingBytes += line.length;
      if (this.pendingBytes >= 1 * MiB) await this.flush();
    }
    await this.flush();
    return this.truncated === undefined;
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const chunks = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    await this.file.writev(chunks);
  }

  /** Writes the index and closes; the result is then readable with QueryResultFiles.page. */
  async finish(): Promise<void> {
    await this.flush();
    await this.file.close();
    const index = Buffer.from(new Float64Array(this.offsets).buffer);
    this.offsets.length = 1; // the index is on disk now
    const idx = await open(`${this.path}.idx`, 'w');
    try {
      await idx.writeFile(index);
    } finally {
      await idx.close();
    }
  }

  /** Closes and deletes what was written (a failed or retried query). */
  async discard(): Promise<void> {
    this.pending = [];
    await this.file.close().catch(() => undefined);
    await rm(`${this.path}.ndjson`, { force: true });
    await rm(`${this.path}.idx`, { force: true });
  }
}

export class QueryResultFiles {
  constructor(
    private readonly dir: string,
    readonly caps: ResultCaps,
  ) {}

  private pathOf(tenant: string, id: string): string {
    return join(this.dir, tenant, id);
  }

  /** Deletes every result (at start: results of an earlier process can no longer be asked for). */
  async clear(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  async writer(tenant: string, id: string): Promise<ResultWriter> {
    await mkdir(join(this.dir, tenant), { recursive: true });
    return ResultWriter.create(this.pathOf(tenant, id), this.caps);
  }

  /** Whether the result's files exist (tests: results are on disk). */
  filesOf(tenant: string, id: string): { rows: string; index: string } {
    const base = this.pathOf(tenant, id);
    return { rows: `${base}.ndjson`, index: `${base}.idx` };
  }

  /**
   * Rows [from, from + count) of a finished result, cut shorter so the page stays within maxPageBytes
   * (but always at least one row); `next` is the first row not returned, when rows follow.
   */
  async page(tenant: string, id: string, from: number, count: number, totalRows: number): Promise<{ rows: unknown[][]; next: number | undefined }> {
    if (from >= totalRows || count <= 0) return { rows: [], next: undefined };
    const last = Math.min(totalRows, from + count);
    const { rows: rowsPath, index: indexPath } = this.filesOf(tenant, id);
    const offsets = new Float64Array(last - from + 1);
    const idx = await open(indexPath, 'r');
    try {
      await idx.read(Buffer.from(offsets.buffer), 0, offsets.byteLength, from * 8);
    } finally {
      await idx.close();
    }
    let n = 1;
    while (from + n < last && offsets[n + 1]! - offsets[0]! <= this.caps.maxPageBytes) n++;
    const start = offsets[0]!;
    const length = offsets[n]! - start;
    const buf = Buffer.alloc(length);
    const file = await open(rowsPath, 'r');
    try {
      await file.read(buf, 0, length, start);
    } finally {
      await file.close();
    }
    const rows: unknown[][] = [];
    let at = 0;
    for (let i = 1; i <= n; i++) {
      const end = offsets[i]! - start;
      rows.push(JSON.parse(buf.toString('utf8', at, end - 1)) as unknown[]);
      at = end;
    }
    return { rows, next: from + n < totalRows ? from + n : undefined };
  }

  async remove(tenant: string, id: string): Promise<void> {
    const { rows, index } = this.filesOf(tenant, id);
    await rm(rows, { force: true });
    await rm(index, { force: true });
  }
}
