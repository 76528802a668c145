/**
 * The Lambda bundles for real: local esbuild (no Docker), ESM with the createRequire banner, parquet-wasm
 * copied beside the bundle from node_modules (not bundled), and each bundle loaded by Node and called the
 * way Lambda calls it, against a fake AWS endpoint on loopback (Secrets Manager answers; nothing else is
 * needed). The synth runs offline with an empty npm cache (issue 13, finding 8): any `npm ci` or registry
 * call would fail it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COPIED_PACKAGES, ESM_REQUIRE_BANNER, PARQUET_WASM } from '../../infra/constructs/lambda-defaults.js';
import { AWS_ENV } from '../../shared/config/env.js';
import { synthSluice } from '../helpers/infra.js';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);

const API_KEY = 'sluice_bundle-test-key-0123456789';
const KEYS_SECRET = JSON.stringify({
  keys: [{ hash: createHash('sha256').update(API_KEY).digest('hex'), tenant: 'acme', scopes: ['ingest', 'query', 'admin'] }],
});
const TOKEN_SECRET = 'x'.repeat(64);

let outdir: string;
let cleanup: () => Promise<void>;
let server: Server;
let endpoint: string;
/** Asset directory of each function, by the start of its logical id. */
const assets: Record<'ingest' | 'writer' | 'query' | 'authorizer' | 'compactor', string> = { ingest: '', writer: '', query: '', authorizer: '', compactor: '' };
const awsCalls: string[] = [];
let emptyCacheAfterSynth: string[] = [];

/** Just enough of Secrets Manager (awsJson1_1) for the cold starts; any other call is refused. */
function fakeAws(): Promise<void> {
  server = createServer((req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      awsCalls.push(target);
      if (target === 'secretsmanager.GetSecretValue') {
        const { SecretId } = JSON.parse(body) as { SecretId: string };
        const value = SecretId.includes('keys') ? KEYS_SECRET : TOKEN_SECRET;
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ ARN: SecretId, Name: 'secret', SecretString: value, VersionId: 'v1', VersionStages: ['AWSCURRENT'], CreatedDate: 0 }));
        return;
      }
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ __type: 'AccessDeniedException', message: `the bundle test does not expect ${target || req.url}` }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
}

/** Loads a bundle in a fresh Node process as Lambda's runtime would (import, then call handler once). */
async function invoke(asset: string, event: unknown): Promise<{ loaded: boolean; result?: unknown; error?: string }> {
  const script = join(outdir, `invoke-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(
    script,
    `const out = { loaded: false };
     try {
       const m = await import(${JSON.stringify(join(asset, 'index.mjs'))});
       out.loaded = typeof m.handler === 'function';
       out.result = await m.handler(${JSON.stringify(event)}, {});
     } catch (err) { out.error = String(err && err.stack || err); }
     process.stdout.write('\\n@@result ' + JSON.stringify(out) + '\\n');`,
  );
  const env = {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'example',
    AWS_ENDPOINT_URL: endpoint,
    NODE_NO_WARNINGS: '1',
    [AWS_ENV.queueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/sluice-queue',
    [AWS_ENV.bucket]: 'sluice-events-bucket',
    [AWS_ENV.workgroup]: 'Sluice',
    [AWS_ENV.database]: 'sluice',
    [AWS_ENV.table]: 'events',
    [AWS_ENV.keysSecretArn]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:keys-AbCdEf',
    [AWS_ENV.tokenSecretArn]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:token-AbCdEf',
  };
  // cwd outside the repository: the bundle must not find anything in the project's node_modules.
  const { stdout } = await run(process.execPath, [script], { env, cwd: asset, timeout: 30_000 });
  // The handlers log to stdout too; the result is the marked line.
  const line = stdout.split('\n').find((l) => l.startsWith('@@result '));
  if (!line) throw new Error(`no result from ${asset}:\n${stdout}`);
  return JSON.parse(line.slice('@@result '.length)) as { loaded: boolean; result?: unknown; error?: string };
}

function apiEvent(routeKey: string, body: unknown, scopes = 'ingest query admin') {
  const [method, path] = routeKey.split(' ') as [string, string];
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    requestContext: {
      http: { method, path, sourceIp: '127.0.0.1', protocol: 'HTTP/1.1', userAgent: 'test' },
      requestId: 'r1',
      routeKey,
      authorizer: { lambda: { tenant: 'acme', scopes, keyId: 'abcd1234' } },
    },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

beforeAll(async () => {
  ({ dir: outdir, cleanup } = await tempDir('sluice-cdk-'));
  await fakeAws();
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // As on a machine with no network and nothing in npm's cache: bundling's child processes inherit these,
  // so an `npm ci` (or any registry fetch) would fail with ENOTCACHED.
  const npmCache = mkdtempSync(join(tmpdir(), 'sluice-empty-npm-cache-'));
  const saved = { offline: process.env.npm_config_offline, cache: process.env.npm_config_cache };
  process.env.npm_config_offline = 'true';
  process.env.npm_config_cache = npmCache;
  let template: ReturnType<typeof synthSluice>['template'];
  try {
    ({ template } = synthSluice({ bundle: true, outdir }));
    // Nothing was fetched into the cache either.
    emptyCacheAfterSynth = readdirSync(npmCache).filter((f) => f !== '_logs' && f !== '_update-notifier-last-checked');
  } finally {
    for (const [key, value] of [
      ['npm_config_offline', saved.offline],
      ['npm_config_cache', saved.cache],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    rmSync(npmCache, { recursive: true, force: true });
  }
  const manifest = JSON.parse(readFileSync(join(outdir, 'Sluice.assets.json'), 'utf8')) as { files: Record<string, { source: { path: string } }> };
  for (const [id, fn] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
    const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
    const dir = join(outdir, manifest.files[hash]!.source.path);
    if (id.startsWith('IngestIngestFunction')) assets.ingest = dir;
    else if (id.startsWith('IngestWriterFunction')) assets.writer = dir;
    else if (id.startsWith('QueryQueryFunction')) assets.query = dir;
    else if (id.startsWith('ApiAuthorizerFunction')) assets.authorizer = dir;
    else if (id.startsWith('CompactionCompactorFunction')) assets.compactor = dir;
  }
}, 120_000);

afterAll(async () => {
  server?.close();
  await cleanup?.();
});

describe('Lambda bundles', () => {
  it('are ESM bundles with the createRequire banner, built for every function', () => {
    for (const [name, dir] of Object.entries(assets)) {
      expect(dir, name).not.toBe('');
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(code.startsWith(ESM_REQUIRE_BANNER), name).toBe(true);
      expect(/export\s*\{[^}]*\bas handler\b[^}]*\}/.test(code), `${name} exports handler`).toBe(true);
      // The handler's own code is in it (not a placeholder asset).
      expect(code.length, name).toBeGreaterThan(100_000);
      console.info(`bundle ${name}: index.mjs ${(statSync(join(dir, 'index.mjs')).size / 1024).toFixed(0)} KiB`);
    }
  });

  it('synthesize offline with an empty npm cache: no npm ci, nothing fetched', () => {
    expect(emptyCacheAfterSynth).toEqual([]);
  });

  it('copy parquet-wasm beside the writer and compactor bundles (its .wasm cannot be bundled), Node build only, and nowhere else; no lock file', () => {
    const local = join('node_modules', PARQUET_WASM);
    for (const [name, dir] of Object.entries(assets)) {
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      // Bundled, parquet-wasm would look for its .wasm beside index.mjs and fail at cold start.
      expect(code.includes('parquet_wasm_bg.wasm'), `${name} bundles parquet-wasm`).toBe(false);
      const imports = /from\s*"parquet-wasm"/.test(code);
      const installed = existsSync(join(dir, 'node_modules', PARQUET_WASM, 'node', 'parquet_wasm_bg.wasm'));
      const parquet = name === 'writer' || name === 'compactor';
      expect({ name, imports, installed }).toEqual({ name, imports: parquet, installed: parquet });
      // No npm install ran: no lock file, no package.json of the project, nothing but the bundle (and the copied package).
      expect(readdirSync(dir).sort(), name).toEqual(parquet ? ['index.mjs', 'node_modules'] : ['index.mjs']);
    }
    for (const dir of [assets.writer, assets.compactor]) {
      // Exactly the files COPIED_PACKAGES names, byte for byte the local ones.
      expect(readdirSync(join(dir, 'node_modules'))).toEqual([PARQUET_WASM]);
      expect(readdirSync(join(dir, 'node_modules', PARQUET_WASM)).sort()).toEqual([...COPIED_PACKAGES[PARQUET_WASM]!].sort());
      for (const f of ['package.json', 'node/parquet_wasm_bg.wasm', 'node/parquet_wasm.js']) {
        expect(readFileSync(join(dir, 'node_modules', PARQUET_WASM, f)).equals(readFileSync(join(local, f))), f).toBe(true);
      }
    }
  });

  it('the authorizer loads and resolves a key from the hashed keys in Secrets Manager', async () => {
    const event = {
      version: '2.0',
      type: 'REQUEST',
      routeKey: 'POST /v1/logs',
      headers: { authorization: `Bearer ${API_KEY}` },
      requestContext: { http: { sourceIp: '127.0.0.1' } },
    };
    const out = await invoke(assets.authorizer, event);
    expect(out).toMatchObject({ loaded: true, result: { isAuthorized: true, context: { tenant: 'acme' } } });
    const denied = await invoke(assets.authorizer, { ...event, headers: { authorization: 'Bearer not-a-key-at-all' } });
    expect(denied).toMatchObject({ loaded: true, result: { isAuthorized: false } });
  });

  it('the query Lambda loads (top-level await on its secret) and checks SQL with dt-sql-parser inside the ESM bundle', async () => {
    const out = await invoke(assets.query, apiEvent('POST /v1/query', { sql: 'SELEC level FROM logs' }));
    expect(out.error).toBeUndefined();
    expect(out.loaded).toBe(true);
    const result = out.result as { statusCode: number; body: string };
    expect(result.statusCode, result.body).toBe(400);
    console.info(`query 400: ${result.body}`);
    expect(awsCalls.filter((t) => t.startsWith('AmazonAthena'))).toEqual([]);
  });

  it('the compactor Lambda loads (parquet-wasm beside it) and runs until it reaches S3', async () => {
    const out = await invoke(assets.compactor, { source: 'aws.events', 'detail-type': 'Scheduled Event' });
    expect(out.loaded).toBe(true);
    // The fake endpoint does not speak S3: the run fails at its first listing, after a successful load.
    expect(out.error ?? '').not.toMatch(/Cannot find (module|package)|wasm/i);
  });

  it('the ingest and writer Lambdas load and run their handlers', async () => {
    const ingest = await invoke(assets.ingest, apiEvent('POST /v1/logs', 'not json at all {'));
    expect(ingest.error).toBeUndefined();
    expect(ingest.loaded).toBe(true);
    // The queue is unreachable here: what matters is that the handler ran and answered over HTTP.
    expect((ingest.result as { statusCode: number }).statusCode).toBeGreaterThanOrEqual(200);

    const writer = await invoke(assets.writer, {
      Records: [{ messageId: 'm1', body: 'not a queue message', attributes: { ApproximateReceiveCount: '1' }, eventSource: 'aws:sqs' }],
    });
    expect(writer.error).toBeUndefined();
    expect(writer).toMatchObject({ loaded: true, result: { batchItemFailures: [{ itemIdentifier: 'm1' }] } });
  });
});
