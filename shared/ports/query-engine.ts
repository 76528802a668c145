/** Runs a query over one tenant's events within a time range. */
export interface ScopedSql {
  tenant: string;
  /** inclusive, ms since epoch */
  startMs: number;
  /** exclusive, ms since epoch */
  endMs: number;
  /** A single SELECT over the table `logs`; the engine binds `logs` to the tenant and range. */
  sql: string;
  limit: number;
}

export interface ResultColumn {
  name: string;
  type: string;
}

export interface QueryResult {
  columns: ResultColumn[];
  rows: unknown[][];
  stats: {
    rows: number;
    /** bytes the engine read (Athena) or the size of the files it was given (local) */
    bytesScanned: number;
    filesScanned: number;
    elapsedMs: number;
  };
}

export interface QueryEngine {
  run(query: ScopedSql): Promise<QueryResult>;
  close?(): Promise<void>;
}
