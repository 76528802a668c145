/**
 * @elastic/elasticsearch (8.x) against a running local server with keys: the client's product check,
 * `ApiKey` auth, `helpers.bulk`, `bulk` on `/{index}/_bulk`, `info` and `ping`.
 */
import { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestStack, waitForRows } from '../../helpers/local-stack.js';

type Stack = Awaited<ReturnType<typeof startTestStack>>;

const INGEST_KEY = 'es-ingest-key-0001';
const ADMIN_KEY = 'es-admin-key-0001';
const RANGE = { start: Date.now() - 86_400_000, end: Date.now() + 3_600_000 };

describe('Elasticsearch bulk from @elastic/elasticsearch', () => {
  let stack: Stack;
  let client: Client;
  beforeAll(async () => {
    stack = await startTestStack({ SLUICE_API_KEYS: `${INGEST_KEY}:acme:ingest,${ADMIN_KEY}:acme:ingest+query+admin` });
    // The client sends `ApiKey base64(id:api_key)`; the key is the part after the colon.
    client = new Client({ node: stack.url, auth: { apiKey: { id: 'filebeat', api_key: INGEST_KEY } }, maxRetries: 0 });
  });
  afterAll(async () => {
    await client.close();
    await stack.cleanup();
  });

  const rows = (sql: string, count: number) => waitForRows(stack.url, sql, count, { range: RANGE, key: ADMIN_KEY });

  it('answers info and ping as Elasticsearch would (the client checks the product header)', async () => {
    const info = await client.info();
    expect(info.version.number).toMatch(/^8\./);
    expect(await client.ping()).toBe(true);
  });

  it('stores ECS documents sent with helpers.bulk and reports the ones it cannot take as dropped', async () => {
    // Milliseconds that do not end in 0, so the ISO strings the query returns are exactly these.
    const base = Math.floor((Date.now() - 60_000) / 1000) * 1000 + 123;
    const docs = Array.from({ length: 50 }, (_, i) => ({
      '@timestamp': new Date(base + i).toISOString(),
      message: `order ${i} shipped`,
      log: { level: i % 10 === 0 ? 'error' : 'info' },
      host: { name: 'web-2' },
      service: { name: 'shipping' },
      order: { id: i },
    }));
    const dropped: { status: number; error: { type: string; reason: string } }[] = [];
    const result = await client.helpers.bulk<Record<string, unknown>>({
      datasource: [...docs, { message: 'cannot update', '@timestamp': new Date(base).toISOString() }],
      onDocument: (doc) =>
        doc['message'] === 'cannot update' ? [{ update: { _index: 'shipping-logs', _id: 'x' } }, {}] : { create: { _index: 'shipping-logs' } },
      onDrop: (d) => dropped.push(d as never),
      flushBytes: 2000, // several bulk requests
      retries: 0,
    });
    expect(result).toMatchObject({ total: 51, successful: 50, failed: 1, aborted: false });
    expect(dropped).toEqual([
      expect.objectContaining({ status: 400, error: expect.objectContaining({ reason: expect.stringMatching(/update is not supported/) }) }),
    ]);

    const stored = await rows(
      "SELECT count(*), count(DISTINCT message), min(ts), max(ts), count(*) FILTER (WHERE level = 'error'), any_value(host), any_value(service), any_value(attributes['es.index']), any_value(attributes['order.id'] IS NOT NULL) FROM logs WHERE attributes['es.index'] = 'shipping-logs' HAVING count(*) >= 50",
      1,
    );
    expect(stored).toEqual([
      [
        50,
        50,
        new Date(base).toISOString().replace('Z', '000Z'),
        new Date(base + 49).toISOString().replace('Z', '000Z'),
        5,
        'web-2',
        'shipping',
        'shipping-logs',
        true,
      ],
    ]);
  });

  it('posts to /{index}/_bulk and answers item ids that are the stored event ids', async () => {
    const res = await client.bulk({
      index: 'url-index',
      operations: [{ index: {} }, { message: 'via url index', level: 'warn' }, { index: { _id: 'given-id' } }, { message: 'with an id' }],
    });
    expect(res.errors).toBe(false);
    expect(res.items.map((i) => [i.index?.status, i.index?._index])).toEqual([
      [201, 'url-index'],
      [201, 'url-index'],
    ]);
    expect(res.items[1]!.index!._id).toBe('given-id');
    const got = await rows("SELECT message, level, event_id, attributes['es.id'] FROM logs WHERE attributes['es.index'] = 'url-index' ORDER BY message", 2);
    expect(got).toEqual([
      ['via url index', 'warn', res.items[0]!.index!._id, null],
      ['with an id', null, expect.any(String), 'given-id'],
    ]);
  });

  it('answers a bad document with a per-item error and a malformed action line with a 400, both as Elasticsearch', async () => {
    const headers = { authorization: `ApiKey ${INGEST_KEY}`, 'content-type': 'application/x-ndjson' };
    const partial = await call(`${stack.url}/_bulk`, {
      method: 'POST',
      raw: '{"index":{"_index":"raw-idx"}}\n{"message":"good"}\n{"index":{"_index":"raw-idx"}}\n{not json\n',
      headers,
    });
    expect(partial.status).toBe(200);
    expect(partial.headers.get('x-elastic-product')).toBe('Elasticsearch');
    expect(partial.body).toMatchObject({
      errors: true,
      items: [{ index: { status: 201 } }, { index: { status: 400, error: { type: 'document_parsing_exception' } } }],
    });

    const malformed = await call(`${stack.url}/_bulk`, { method: 'POST', raw: 'hello\n', headers });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('x-elastic-product')).toBe('Elasticsearch');
    expect(malformed.body.message).toMatch(/line 1 is not a valid bulk action/);

    await expect(client.bulk({ operations: [{ index: {} }, { message: 'no index anywhere' }] })).resolves.toMatchObject({
      errors: true,
      items: [{ index: { status: 400 } }],
    });
  });

  it('refuses a wrong key and a request without one', async () => {
    const wrong = new Client({ node: stack.url, auth: { apiKey: { id: 'x', api_key: 'not-a-key-at-all' } }, maxRetries: 0 });
    await expect(wrong.info()).rejects.toMatchObject({ meta: { statusCode: 403 } });
    await wrong.close();
    expect((await call(`${stack.url}/_bulk`, { method: 'POST', raw: '{"index":{}}\n{}\n' })).status).toBe(401);
  });
});
