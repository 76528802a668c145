/**
 * Small documents updated with compare-and-swap (alert state). S3 conditional writes in AWS, a lock file
 * locally. A write that lost a race returns false and changes nothing.
 */
export interface Versioned {
  value: string;
  version: string;
}

export interface VersionedStore {
  read(key: string): Promise<Versioned | undefined>;
  /**
   * Writes only if the current version is `expected` (null: only if there is none). Returns the new
   * version, or false when another writer got there first.
   */
  write(key: string, value: string, expected: string | null): Promise<string | false>;
}
