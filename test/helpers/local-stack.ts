import { readLocalConfig, type LocalConfig } from '../../shared/config/env.js';
import { startLocal, type LocalStack } from '../../lambdas/local/start.js';
import { MemoryLogger } from './logger.js';
import type { Clock } from '../../shared/ports/clock.js';
import { textOf } from '../../shared/domain/text.js';
import { tempDir } from './tmp.js';

/** Local mode in this process on a free loopback port with a temporary data directory. */
export async function startTestStack(
  env: Record<string, string> = {},
  overrides: { clock?: Clock; manualAlerts?: boolean; dataDir?: string } = {},
): Promise<LocalStack & { logger: MemoryLogger; cleanup: () => Promise<void> }> {
  const tmp = overrides.dataDir ? { dir: overrides.dataDir, cleanup: async () => {} } : await tempDir();
  const { dir, cleanup } = tmp;
  const config: LocalConfig = readLocalConfig({ PORT: '0', SLUICE_DATA_DIR: dir, SLUICE_FLUSH_MS: '200', ...env });
  const logger = new MemoryLogger();
  let stack: LocalStack;
  try {
    stack = await startLocal(config, {
      logger,
      ...(overrides.clock ? { clock: overrides.clock } : {}),
      ...(overrides.manualAlerts ? { manualAlerts: true } : {}),
    });
  } catch (err) {
    await cleanup();
    throw err;
  }
  return {
    ...stack,
    logger,
    cleanup: async () => {
      await stack.close();
      await cleanup();
    },
  };
}

/** fetch with JSON in and out. */
export async function call(
  url: string,
  init: { method?: string; body?: unknown; raw?: string | Uint8Array; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  let body: string | Uint8Array | undefined;
  if (init.raw !== undefined) body = init.raw;
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON; keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Polls until check() returns a value (not undefined), or fails after timeoutMs. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, intervalMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${textOf(last)}` : ''}`);
}

/** Polls `POST /v1/query` until the SQL returns at least `count` rows; returns them. */
export function waitForRows(
  url: string,
  sql: string,
  count: number,
  opts: { range?: { start: number | string; end: number | string }; key?: string } = {},
): Promise<unknown[][]> {
  const headers: Record<string, string> = opts.key ? { authorization: `Bearer ${opts.key}` } : {};
  return eventually(async () => {
    const r = await call(`${url}/v1/query`, { body: { sql, ...(opts.range ?? {}) }, headers });
    return r.body.rows?.length >= count ? (r.body.rows as unknown[][]) : undefined;
  });
}
