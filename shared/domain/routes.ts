/**
 * The HTTP API's routes, defined once: the local server and the API Gateway routes are built from this
 * table. `target` names the Lambda that serves the route; an ingest route also names the protocol it speaks
 * (lambdas/api/ingest.ts has one handler per protocol).
 */
export type RouteTarget = 'ingest' | 'query';

/** The ingest protocols: Sluice's own /v1/logs and those of the shippers people already run. */
export type IngestProtocol =
  'logs' | 'otlp' | 'elasticsearch-info' | 'elasticsearch-bulk' | 'splunk-hec-event' | 'splunk-hec-raw' | 'splunk-hec-health' | 'loki' | 'gelf' | 'proton';

interface RouteBase {
  method: 'GET' | 'HEAD' | 'POST';
  path: string;
}

export type Route = (RouteBase & { target: 'ingest'; protocol: IngestProtocol }) | (RouteBase & { target: 'query' });

export const ROUTES: readonly Route[] = [
  { method: 'POST', path: '/v1/logs', target: 'ingest', protocol: 'logs' },
  { method: 'POST', path: '/v1/query', target: 'query' },
  { method: 'GET', path: '/v1/query/{token}', target: 'query' },
  { method: 'GET', path: '/v1/receipts/{id}', target: 'query' },
  // The endpoints of the shippers people already run; each speaks its protocol.
  { method: 'POST', path: '/otlp/v1/logs', target: 'ingest', protocol: 'otlp' },
  // Elasticsearch clients (Filebeat, Logstash, Vector) read the product and version from `/` first.
  { method: 'GET', path: '/', target: 'ingest', protocol: 'elasticsearch-info' },
  { method: 'HEAD', path: '/', target: 'ingest', protocol: 'elasticsearch-info' },
  { method: 'POST', path: '/_bulk', target: 'ingest', protocol: 'elasticsearch-bulk' },
  { method: 'POST', path: '/{index}/_bulk', target: 'ingest', protocol: 'elasticsearch-bulk' },
  { method: 'POST', path: '/services/collector', target: 'ingest', protocol: 'splunk-hec-event' },
  { method: 'POST', path: '/services/collector/event', target: 'ingest', protocol: 'splunk-hec-event' },
  { method: 'POST', path: '/services/collector/event/1.0', target: 'ingest', protocol: 'splunk-hec-event' },
  { method: 'POST', path: '/services/collector/raw', target: 'ingest', protocol: 'splunk-hec-raw' },
  { method: 'POST', path: '/services/collector/raw/1.0', target: 'ingest', protocol: 'splunk-hec-raw' },
  { method: 'GET', path: '/services/collector/health', target: 'ingest', protocol: 'splunk-hec-health' },
  { method: 'GET', path: '/services/collector/health/1.0', target: 'ingest', protocol: 'splunk-hec-health' },
  { method: 'POST', path: '/loki/api/v1/push', target: 'ingest', protocol: 'loki' },
  { method: 'POST', path: '/gelf', target: 'ingest', protocol: 'gelf' },
  { method: 'POST', path: '/proton/v1/ingest/streams/{stream}', target: 'ingest', protocol: 'proton' },
];

/** An API Gateway route key, `METHOD /path` (what the handlers receive as event.routeKey). */
export function routeKeyOf(route: RouteBase): string {
  return `${route.method} ${route.path}`;
}

export type RouteMatch =
  { kind: 'match'; route: Route; routeKey: string; params: Record<string, string> } | { kind: 'method-not-allowed'; allowed: string[] } | { kind: 'not-found' };

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
    if (route.method === method.toUpperCase()) return { kind: 'match', route, routeKey: routeKeyOf(route), params };
    allowed.push(route.method);
  }
  return allowed.length > 0 ? { kind: 'method-not-allowed', allowed } : { kind: 'not-found' };
}
