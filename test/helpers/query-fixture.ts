/**
 * A small, varied data set for query tests: three services, all levels, access-log attributes, messages
 * with key=value text, over two hours. Expected answers are computed from `events` in plain TypeScript.
 */
import { FsObjectStore } from '../../shared/adapters/local/fs-object-store.js';
import { encodeParquet } from '../../shared/domain/parquet.js';
import { partitionId, partitionOf } from '../../shared/domain/partitioning.js';
import { partitionPrefix } from '../../shared/domain/storage-layout.js';
import type { LogEvent } from '../../shared/domain/schema.js';
import { makeEvent } from './events.js';

export const T0 = Date.UTC(2024, 4, 1, 10, 0); // 10:00 UTC
const SERVICES = ['api', 'web', 'db'] as const;
const LEVELS = ['info', 'info', 'info', 'warn', 'error', 'debug'] as const;
const PATHS = ['/login', '/cart', '/pay', '/search'];
const USERS = ['bob', 'alice', 'carol', 'dave'];

export function fixtureEvents(): LogEvent[] {
  const out: LogEvent[] = [];
  for (let i = 0; i < 240; i++) {
    const service = SERVICES[i % 3]!;
    const level = LEVELS[i % LEVELS.length]!;
    const path = PATHS[i % 4]!;
    const user = USERS[(i * 7) % 4]!;
    const status = level === 'error' ? 500 : i % 11 === 0 ? 404 : 200;
    out.push(
      makeEvent({
        ts: (T0 + i * 30_000) * 1000, // every 30 s over two hours
        level,
        severity: { info: 9, warn: 13, error: 17, debug: 5 }[level],
        service,
        host: `host-${i % 2}`,
        message: level === 'error' ? `request failed: connection refused user=${user} action=pay` : `request ok user=${user} action=${path.slice(1)}`,
        attributes: { 'http.path': path, 'http.status': String(status), duration_ms: String((i * 37) % 1000), ...(i % 5 === 0 ? { region: 'eu' } : {}) },
        tags: i % 2 === 0 ? ['even'] : [],
        event_id: `e${i}`,
      }),
    );
  }
  return out;
}

/** Writes the events as Parquet files in the partition layout, one file per tenant-hour. */
export async function writeFixture(store: FsObjectStore, tenant: string, events: LogEvent[]): Promise<void> {
  const groups = new Map<string, LogEvent[]>();
  for (const e of events) {
    const id = partitionId(partitionOf(tenant, e.ts));
    groups.set(id, [...(groups.get(id) ?? []), e]);
  }
  for (const evs of groups.values()) {
    await store.put(`${partitionPrefix(partitionOf(tenant, evs[0]!.ts))}fixture.parquet`, encodeParquet(evs));
  }
}
