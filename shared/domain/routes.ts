/**
 * The HTTP API's routes, defined once: the local server and (later) the API Gateway routes are built from
 * this table. `target` names the Lambda that serves the route.
 */
export type RouteTarget = 'ingest' | 'query';

export interface Route {
  method: 'GET' | 'HEAD' | 'POST';
  path: string;
  target: RouteTarget;
}

export const ROUTES: readonly Route[] = [
  { method: 'POST', path: '/v1/logs', target: 'ingest' },
  { method: 'POST', path: '/v1/query', target: 'query' },
  { method: 'GET', path: '/v1/query/{token}', target: 'query' },
  { method: 'GET', path: '/v1/receipts/{id}', target: 'query' },
  // The endpoints of the shippers people already run; each speaks its protocol (lambdas/api/ingest.ts).
  { method: 'POST', path: '/otlp/v1/logs', target: 'ingest' },
  // Elasticsearch clients (Filebeat, Logstash, Vector) read the product and version from `/` first.
  { method: 'GET', path: '/', target: 'ingest' },
  { method: 'HEAD', path: '/', target: 'ingest' },
  { method: 'POST', path: '/_bulk', target: 'ingest' },
  { method: 'POST', path: '/{index}/_bulk', target: 'ingest' },
  { method: 'POST', path: '/services/collector', target: 'ingest' },
  { method: 'POST', path: '/services/collector/event', target: 'ingest' },
  { method: 'POST', path: '/services/collector/event/1.0', target: 'ingest' },
  { method: 'POST', path: '/services/collector/raw', target: 'ingest' },
  { method: 'POST', path: '/services/collector/raw/1.0', target: 'ingest' },
  { method: 'GET', path: '/services/collector/health', target: 'ingest' },
  { method: 'GET', path: '/services/collector/health/1.0', target: 'ingest' },
  { method: 'POST', path: '/loki/api/v1/push', target: 'ingest' },
  { method: 'POST', path: '/gelf', target: 'ingest' },
  { method: 'POST', path: '/proton/v1/ingest/streams/{stream}', target: 'ingest' },
];

export type RouteMatch =
  | { kind: 'match'; route: Route; routeKey: string; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[] }
  | { kind: 'not-found' };

function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith('{') && w.endsWith('}')) {
      if (g === '') return undefined;
      try {
        params[w.slice(1, -1)] = decodeURIComponent(g);
      } catch {
        return undefined;
      }
    } else if (w !== g) {
      return undefined;
    }
  }
  return params;
}

export function matchRoute(method: string, path: string, routes: readonly Route[] = ROUTES): RouteMatch {
  const allowed: string[] = [];
  for (const route of routes) {
    const params = matchPath(route.path, path);
    if (!params) continue;
    if (route.method === method.toUpperCase()) return { kind: 'match', route, routeKey: `${route.method} ${route.path}`, params };
    allowed.push(route.method);
  }
  return allowed.length > 0 ? { kind: 'method-not-allowed', allowed } : { kind: 'not-found' };
}
