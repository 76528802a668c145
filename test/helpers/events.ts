import type { LogEvent } from '../../shared/domain/schema.js';

let seq = 0;

/** A normalized event with sensible defaults; override what the test cares about. */
export function makeEvent(overrides: Partial<LogEvent> = {}): LogEvent {
  const now = Date.UTC(2024, 4, 1, 12, 0, 0) * 1000;
  seq++;
  return {
    ts: now,
    ingested_at: now,
    level: 'info',
    severity: 9,
    service: 'api',
    host: 'host-1',
    source: null,
    message: `event ${seq}`,
    attributes: {},
    tags: [],
    trace_id: null,
    span_id: null,
    format: 'json',
    event_id: `evt-${seq}`,
    ts_inferred: false,
    ...overrides,
  };
}
