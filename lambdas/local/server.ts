/**
 * The local HTTP server: does what API Gateway does in AWS (routing, the Lambda authorizer, payload v2
 * events) and calls the same handler functions the Lambdas export.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { matchRoute, type RouteTarget } from '../../shared/domain/routes.js';
import { systemClock } from '../../shared/ports/clock.js';
import type { Logger } from '../../shared/ports/logger.js';
import { makeRefusalLog, type RefusalLog } from '../../shared/services/refusals.js';
import type { Authorizer } from '../api/authorizer.js';
import type { ApiEvent, ApiHandler, ApiResult } from '../runtime/api-gateway.js';

export interface LocalServerOptions {
  authorize: Authorizer;
  handlers: Record<RouteTarget, ApiHandler>;
  /** When keys are configured a request without Authorization gets 401 before the authorizer runs. */
  requireCredential: boolean;
  maxBodyBytes: number;
  logger: Logger;
  /** GET /health's body, and its status code (200 unless given: 503 when ingest is refused). */
  health: () => Record<string, unknown> & { statusCode?: number };
  /**
   * Ingest requests served at once (reading the body through the spool's fsync); one more is answered 429
   * with Retry-After before its body is read, so a flood of large requests cannot exhaust memory.
   */
  maxConcurrentIngest?: number;
  /** where the server's own refusals of ingest requests are reported (default: the logger, rate-limited) */
  refusals?: RefusalLog;
}

/**
 * Enough to keep the spool's group commit busy (measured: more does not raise throughput on 2 cores), and
 * low enough that the bodies being decoded at once stay a bounded amount of memory.
 */
export const DEFAULT_MAX_CONCURRENT_INGEST = 16;

class BodyTooLarge extends Error {}

/**
 * Transfer codings Node decodes: chunked (and identity, a no-op HTTP/1.1 once had). Node's parser frames a
 * body sent `Transfer-Encoding: gzip, chunked` by its chunks and leaves the gzip in it, so the body would be
 * read as if it were plain; such a request is refused before its body is read.
 */
function unsupportedTransferCoding(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return header
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .find((c) => c !== 'chunked' && c !== 'identity' && c !== '');
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > max) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/** Answers without reading the body: the rest of it is discarded and the connection closed. */
function refuseUnread(res: ServerResponse, req: IncomingMessage, result: ApiResult): void {
  res.setHeader('connection', 'close');
  req.resume();
  send(res, result);
}

function send(res: ServerResponse, result: ApiResult): void {
  const body = result.body === undefined ? '' : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  const headers: Record<string, string | number> = { 'content-length': body.length };
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(body);
}

function problem(status: number, error: string, message: string, headers: Record<string, string> = {}): ApiResult {
  return { statusCode: status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify({ error, message }) };
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  }
  return out;
}

function queryOf(url: URL): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const key of new Set(url.searchParams.keys())) out[key] = url.searchParams.getAll(key).join(',');
  return Object.keys(out).length > 0 ? out : undefined;
}

export function createLocalServer(opts: LocalServerOptions): Server {
  const { logger } = opts;
  const refusals = opts.refusals ?? makeRefusalLog({ logger, clock: systemClock });
  const maxIngest = opts.maxConcurrentIngest ?? DEFAULT_MAX_CONCURRENT_INGEST;
  let ingestInFlight = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = Date.now();
    const requestId = randomUUID();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return send(res, problem(400, 'bad_request', 'the request target is not a valid URL'));
    }
    const method = (req.method ?? 'GET').toUpperCase();
    if (url.pathname === '/health' && method === 'GET') {
      const { statusCode = 200, ...fields } = opts.health();
      return send(res, {
        statusCode,
        headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
        body: JSON.stringify({ status: 'ok', ...fields }),
      });
    }
    const match = matchRoute(method, url.pathname);
    if (match.kind === 'not-found') return send(res, problem(404, 'not_found', `no route for ${url.pathname}`));
    if (match.kind === 'method-not-allowed') {
      return send(
        res,
        problem(405, 'method_not_allowed', `${method} is not allowed on ${url.pathname}; use ${match.allowed.join(', ')}`, { allow: match.allowed.join(', ') }),
      );
    }

    const headers = headersOf(req);
    const timeEpoch = Date.now();
    const http = {
      method,
      path: url.pathname,
      protocol: `HTTP/${req.httpVersion}`,
      sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      userAgent: headers['user-agent'] ?? '',
    };
    const requestContext = {
      accountId: 'local',
      apiId: 'local',
      domainName: headers['host'] ?? 'localhost',
      domainPrefix: 'local',
      http,
      requestId,
      routeKey: match.routeKey,
      stage: '$default',
      time: new Date(timeEpoch).toISOString(),
      timeEpoch,
    };

    const isIngest = match.route.target === 'ingest';
    /** Sends a refusal and, on an ingest route, reports it (a shipper's data is being turned away). */
    const refuse = (result: ApiResult, tenant: string, unread: boolean) => {
      if (isIngest) {
        const { error, message } = JSON.parse(result.body ?? '{}') as { error: string; message: string };
        refusals.refused({ route: match.routeKey, tenant, status: result.statusCode ?? 0, error, reason: message, userAgent: http.userAgent });
      }
      if (unread) refuseUnread(res, req, result);
      else send(res, result);
    };

    if (opts.requireCredential && !headers['authorization']) {
      return refuse(
        problem(
          401,
          'unauthorized',
          'this server requires an API key: send Authorization: Bearer <key> (shippers may use Splunk <key>, ApiKey <key>, or Basic auth with the key as password)',
          {
            'www-authenticate': 'Bearer',
          },
        ),
        '-',
        true,
      );
    }
    const authEvent: APIGatewayRequestAuthorizerEventV2 = {
      version: '2.0',
      type: 'REQUEST',
      routeArn: `arn:local:execute-api:local:local:local/$default/${method}${url.pathname}`,
      identitySource: headers['authorization'] ? [headers['authorization']] : [],
      routeKey: match.routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      cookies: [],
      headers,
      queryStringParameters: queryOf(url) ?? {},
      requestContext,
      pathParameters: match.params,
      stageVariables: {},
    };
    const auth = await opts.authorize(authEvent);
    if (!auth.isAuthorized) return refuse(problem(403, 'forbidden', 'the API key is not valid'), '-', true);
    const tenant = (auth.context as { tenant?: string } | undefined)?.tenant ?? '-';

    // RFC 9112 §6.1: a transfer coding the server does not understand is a 501. Node decodes only
    // chunked; compression belongs in Content-Encoding, which every ingest route decodes.
    const coding = unsupportedTransferCoding(headers['transfer-encoding']);
    if (coding !== undefined) {
      return refuse(
        problem(
          501,
          'not_implemented',
          `transfer coding ${JSON.stringify(coding)} is not supported: send the body with Content-Length or Transfer-Encoding: chunked alone, and compress it with Content-Encoding: gzip`,
        ),
        tenant,
        true,
      );
    }

    const counted = match.route.target === 'ingest' && method === 'POST';
    if (counted && ingestInFlight >= maxIngest) {
      // The body is discarded as it arrives (not buffered) and the connection kept, so the client reads
      // the 429 rather than a reset, and its retry reuses the connection.
      req.resume();
      return refuse(
        problem(429, 'too_many_requests', `the server is already handling ${maxIngest} ingest requests; retry after the number of seconds in Retry-After`, {
          'retry-after': '1',
        }),
        tenant,
        false,
      );
    }
    if (counted) ingestInFlight++;
    try {
      await serve(req, res, match, url, headers, requestContext, auth.context, method, started, (result) => refuse(result, tenant, false));
    } finally {
      if (counted) ingestInFlight--;
    }
  };

  const serve = async (
    req: IncomingMessage,
    res: ServerResponse,
    match: Extract<ReturnType<typeof matchRoute>, { kind: 'match' }>,
    url: URL,
    headers: Record<string, string>,
    requestContext: Record<string, unknown>,
    authContext: unknown,
    method: string,
    started: number,
    refuseRead: (result: ApiResult) => void,
  ): Promise<void> => {
    // The body is read only for an authorized request: a caller without a key cannot make the server buffer it.
    let body: Buffer;
    try {
      body = await readBody(req, opts.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        res.setHeader('connection', 'close');
        return refuseRead(
          problem(413, 'payload_too_large', `request body exceeds ${opts.maxBodyBytes} bytes; split it into smaller requests or compress it with gzip`),
        );
      }
      throw err;
    }

    const event = {
      version: '2.0',
      routeKey: match.routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      queryStringParameters: queryOf(url),
      pathParameters: match.params,
      requestContext: { ...requestContext, authorizer: { lambda: authContext } },
      body: body.toString('base64'),
      isBase64Encoded: true,
    } as ApiEvent;

    const result = await opts.handlers[match.route.target](event);
    send(res, result);
    logger.debug('request', { method, path: url.pathname, status: result.statusCode, ms: Date.now() - started });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error('request failed', { error: (err as Error)?.stack ?? String(err) });
      if (!res.headersSent) send(res, problem(500, 'internal', 'internal error; it has been logged'));
      else res.destroy();
    });
  });
  // Requests Node's parser refuses (headers over --max-http-header-size, 16 KiB by default; malformed
  // request lines) get a status and a message instead of a bare close.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') return socket.destroy();
    const [status, reason, message] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'the request headers are larger than 16 KiB; send fewer or smaller headers']
        : err.code === 'HPE_INVALID_TRANSFER_ENCODING'
          ? // RFC 9112 §6.3: chunked must be the last transfer coding of a request, or its length is unknown.
            [400, 'Bad Request', 'the Transfer-Encoding header is not usable: send the body with Content-Length or Transfer-Encoding: chunked alone']
          : err.code === 'HPE_INVALID_CONTENT_LENGTH' || err.code === 'HPE_UNEXPECTED_CONTENT_LENGTH'
            ? [400, 'Bad Request', 'the Content-Length header is not valid (or comes with Transfer-Encoding): send one Content-Length or chunked alone']
            : [400, 'Bad Request', 'the request could not be parsed as HTTP/1.1'];
    const body = JSON.stringify({ error: status === 431 ? 'headers_too_large' : 'bad_request', message });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
  server.requestTimeout = 120_000;
  server.headersTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  return server;
}
