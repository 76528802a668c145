/** The NDJSON application-log corpus the ingest benchmarks share: access-style events over one minute. */
const SERVICES = ['checkout', 'payments', 'search', 'auth', 'inventory', 'email', 'gateway'];
const PATHS = ['/api/cart', '/api/pay', '/api/search?q=shoes', '/login', '/api/items/42', '/health'];

/** n events as NDJSON; `run` makes request ids differ between runs. */
export function appNdjson(n: number, run = 0): string {
  const lines: string[] = [];
  const start = Date.now() - 60_000;
  for (let i = 0; i < n; i++) {
    const status = i % 50 === 0 ? 500 : i % 13 === 0 ? 404 : 200;
    lines.push(
      JSON.stringify({
        time: new Date(start + Math.floor((i / n) * 60_000)).toISOString(),
        level: status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info',
        service: SERVICES[i % SERVICES.length],
        host: `ip-10-0-${i % 4}-${(i * 7) % 250}`,
        msg: `${status >= 500 ? 'upstream failed' : 'request completed'} ${PATHS[i % PATHS.length]}`,
        http: { method: i % 3 === 0 ? 'POST' : 'GET', path: PATHS[i % PATHS.length], status },
        duration_ms: (i * 37) % 1200,
        request_id: `req-${run}-${i.toString(36)}`,
        user_id: `u${(i * 13) % 5000}`,
      }),
    );
  }
  return lines.join('\n') + '\n';
}
