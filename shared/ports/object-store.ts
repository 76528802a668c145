/** The few object-store operations Sluice needs. Keys are '/'-separated and never start with '/'. */
export interface ObjectInfo {
  key: string;
  size: number;
}

export interface ObjectStore {
  /** Stores the whole object atomically: readers see the old object, or none, or the new one. */
  put(key: string, body: Uint8Array, contentType?: string): Promise<void>;
  /** The object's bytes, or undefined when there is no such key. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Every object whose key starts with prefix, sorted by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Removes the object; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
}
