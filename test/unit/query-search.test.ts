/**
 * Free-text search terms are case-insensitive: `contains(lower(message), lower(term))`. On DuckDB an ASCII
 * term compiles to a case-sensitive regex of letter classes instead (asciiCaseFoldRegex), which must match
 * exactly the same messages; these tests prove that against DuckDB's own lower() on tricky and random
 * inputs, and check that the engine's newest-first file order (which lets `"term" | limit n` skip older
 * files) changes nothing in the answers.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbQueryEngine } from '../../shared/adapters/local/duckdb-query-engine.js';
import { FsObjectStore } from '../../shared/adapters/local/fs-object-store.js';
import { encodeParquet } from '../../shared/domain/parquet.js';
import { partitionOf } from '../../shared/domain/partitioning.js';
import { partitionPrefix } from '../../shared/domain/storage-layout.js';
import { compilePipeline } from '../../shared/domain/query/compile.js';
import { asciiCaseFoldRegex } from '../../shared/domain/query/dialects/duckdb.js';
import type { LogEvent } from '../../shared/domain/schema.js';
import { makeQueryService } from '../../shared/services/query.js';
import { makeEvent } from '../helpers/events.js';
import { tempDir } from '../helpers/tmp.js';

/** Messages that make case folding, LIKE and regex escaping go wrong if anything is off. */
const MESSAGES = [
  'Connection refused',
  'CONNECTION REFUSED by peer',
  'connection  refused',
  'conn_ection refused',
  'connection%refused',
  '100% done_ok',
  '100x done ok',
  'path C:\\temp\\file',
  'path C:/temp/file',
  'a.b*c+d?e(f)g[h]i{j}k|l^m$n',
  'aXb*c+d?e(f)g[h]i{j}k|l^m$n',
  'line one\nline TWO\ttab',
  'quote \' and " and `',
  'İstanbul', // U+0130 lowers to i
  'istanbul',
  'ISTANBUL',
  '\u212Aelvin', // Kelvin sign lowers to k
  'KELVIN',
  'Straße STRASSE straẞe',
  'ΣΊΣΥΦΟΣ σίσυφος',
  'naïve NAÏVE',
  'emoji 🔥 FIRE fire',
  'ǅemal ǆ Ǆ', // title-case digraphs
  '\u0131 dotless i',
  'ﬁle ligature FILE',
  '',
];

const TERMS = [
  'connection refused',
  'CONNECTION refused',
  'Connection',
  '%',
  '_',
  '100%',
  'done_ok',
  '\\',
  'C:\\temp',
  '.',
  'a.b*c+d?e(f)g[h]i{j}k|l^m$n',
  '*',
  '[h]',
  '(f)',
  '$n',
  '^',
  "'",
  '"',
  '\n',
  'line two\tTAB',
  'istanbul',
  'ISTANBUL',
  'kelvin',
  'K',
  'k',
  'i',
  'I',
  'fire',
  'strasse',
  'x',
  ' ',
  // non-ASCII terms keep lower() (no regex): still checked for the same answers
  'İstanbul',
  'straße',
  'σίσυφος',
  'ΣΊΣΥΦΟΣ',
  'ǆ',
  'naïve',
  '🔥',
];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('case-insensitive search terms', () => {
  let conn: DuckDBConnection;
  let instance: DuckDBInstance;

  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
    conn = await instance.connect();
  });
  afterAll(() => {
    conn.closeSync();
    instance.closeSync();
  });

  it('compiles an ASCII term to letter classes and escaped literals; others keep lower()', () => {
    expect(asciiCaseFoldRegex('Connection refused')).toBe('[cC][oO][nN][nN][eE][cC][tT][iI\\x{130}][oO][nN]\\x{20}[rR][eE][fF][uU][sS][eE][dD]');
    expect(asciiCaseFoldRegex('K9%_\\.*')).toBe('[kK\\x{212A}]9\\x{25}\\x{5f}\\x{5c}\\x{2e}\\x{2a}');
    expect(asciiCaseFoldRegex('')).toBeUndefined();
    expect(asciiCaseFoldRegex('straße')).toBeUndefined();

    const duck = compilePipeline('"Connection refused" "straße"', 'duckdb');
    expect(duck.sql).toContain('regexp_matches("message", $3)');
    expect(duck.sql).toContain('contains(lower("message"), lower($4))');
    expect(duck.params).toEqual([asciiCaseFoldRegex('Connection refused'), 'straße']);
    // Trino keeps strpos(lower(...)): Athena's lower() is not DuckDB's, and the regex proof is DuckDB's.
    const trino = compilePipeline('"Connection refused"', 'trino');
    expect(trino.sql).toContain('strpos(lower("message"), lower(?)) > 0');
    expect(trino.params).toEqual(['Connection refused']);
  });

  it("rests on DuckDB's lower(): one code point to one, and only U+0130 and U+212A lower onto ASCII from outside it", async () => {
    const onto = await conn.runAndReadAll(
      `SELECT cp, lower(chr(cp::INTEGER)) FROM range(128, 1114112) t(cp)
       WHERE (cp < 55296 OR cp > 57343) AND regexp_matches(lower(chr(cp::INTEGER)), '[\\x00-\\x7f]') ORDER BY cp`,
    );
    expect(onto.getRowsJson()).toEqual([
      ['304', 'i'],
      ['8490', 'k'],
    ]);
    const ascii = await conn.runAndReadAll(
      `SELECT count(*) FROM range(0, 128) t(cp) WHERE lower(chr(cp::INTEGER)) <> chr(cp::INTEGER + CASE WHEN cp BETWEEN 65 AND 90 THEN 32 ELSE 0 END)`,
    );
    expect(ascii.getRowsJson()).toEqual([['0']]);
    const lengths = await conn.runAndReadAll(
      `SELECT count(*) FROM range(0, 1114112) t(cp) WHERE (cp < 55296 OR cp > 57343) AND length(lower(chr(cp::INTEGER))) <> 1`,
    );
    expect(lengths.getRowsJson()).toEqual([['0']]);
    // No context: a string lowers code point by code point (no final-sigma rule and the like).
    const ctx = await conn.runAndReadAll(`SELECT lower('ΣΑΣ'), lower('AİK\u212A')`);
    expect(ctx.getRowsJson()).toEqual([['σασ', 'aikk']]);
  });

  async function mismatches(messages: string[], terms: string[]): Promise<unknown[][]> {
    await conn.run('CREATE OR REPLACE TEMP TABLE m (msg VARCHAR)');
    await conn.run('CREATE OR REPLACE TEMP TABLE t (term VARCHAR, pattern VARCHAR)');
    const am = await conn.createAppender('m');
    for (const msg of messages) {
      am.appendVarchar(msg);
      am.endRow();
    }
    am.closeSync();
    const at = await conn.createAppender('t');
    for (const term of terms) {
      at.appendVarchar(term);
      const p = asciiCaseFoldRegex(term);
      if (p === undefined) at.appendNull();
      else at.appendVarchar(p);
      at.endRow();
    }
    at.closeSync();
    const r = await conn.runAndReadAll(
      `SELECT msg, term FROM m, t WHERE pattern IS NOT NULL AND regexp_matches(msg, pattern) IS DISTINCT FROM contains(lower(msg), lower(term))`,
    );
    return r.getRowsJson();
  }

  it('matches exactly what contains(lower(message), lower(term)) matches, on tricky inputs', async () => {
    expect(await mismatches(MESSAGES, TERMS)).toEqual([]);
    // and the tricky cases do match where they should
    const hits = await conn.runAndReadAll(
      `SELECT regexp_matches('İstanbul', $1), regexp_matches('\u212Aelvin', $2), regexp_matches('conn_ection', $3), regexp_matches('100% done', $4), regexp_matches('C:\\temp', $5)`,
      [
        asciiCaseFoldRegex('ISTANBUL')!,
        asciiCaseFoldRegex('KELVIN')!,
        asciiCaseFoldRegex('conn%ection')!,
        asciiCaseFoldRegex('0%')!,
        asciiCaseFoldRegex('c:\\TEMP')!,
      ],
    );
    expect(hits.getRowsJson()).toEqual([[true, true, false, true, true]]);
  });

  it('matches exactly what contains(lower(message), lower(term)) matches, on random strings', async () => {
    const next = rng(42);
    const alphabet = [
      'a',
      'A',
      'b',
      'B',
      'i',
      'I',
      'İ',
      'ı',
      'k',
      'K',
      '\u212A',
      's',
      'S',
      'ß',
      'ẞ',
      '%',
      '_',
      '\\',
      '.',
      '*',
      '[',
      ']',
      '(',
      ')',
      '^',
      '$',
      '|',
      '?',
      '+',
      '{',
      '}',
      ' ',
      '\n',
      "'",
      'é',
      'É',
      '🔥',
      '1',
    ];
    const pick = () => alphabet[Math.floor(next() * alphabet.length)]!;
    const messages = Array.from({ length: 400 }, () => Array.from({ length: Math.floor(next() * 12) }, pick).join(''));
    const asciiOnly = alphabet.filter((c) => c.charCodeAt(0) < 128);
    const terms = Array.from({ length: 300 }, (_, i) => {
      // half: an ASCII slice of a message with its case flipped at random; half: random ASCII
      const src = messages[i % messages.length]!.replace(/[^\x00-\x7f]/g, '');
      const from = Math.floor(next() * Math.max(1, src.length));
      const slice =
        i % 2 === 0 && src.length > 0
          ? src.slice(from, from + 1 + Math.floor(next() * 4))
          : Array.from({ length: 1 + Math.floor(next() * 3) }, () => asciiOnly[Math.floor(next() * asciiOnly.length)]!).join('');
      return [...slice].map((c) => (next() < 0.5 ? c.toUpperCase() : c)).join('');
    });
    expect(
      await mismatches(
        messages,
        terms.filter((t) => t !== ''),
      ),
    ).toEqual([]);
  });
});

describe('search through the local engine', () => {
  const T0 = Date.UTC(2024, 4, 1, 0, 0);
  let engine: DuckDbQueryEngine;
  let cleanup: () => Promise<void>;
  let service: ReturnType<typeof makeQueryService>;
  const events: LogEvent[] = [];

  beforeAll(async () => {
    const tmp = await tempDir();
    cleanup = tmp.cleanup;
    const store = new FsObjectStore(tmp.dir);
    // 6 hours × 3 files, a message in three carrying the term in some case or form
    const forms = ['Connection refused', 'CONNECTION REFUSED', 'connection refused', 'conn_ection refused', 'İ \u212A connection refused'];
    let n = 0;
    for (let h = 0; h < 6; h++) {
      for (let f = 0; f < 3; f++) {
        const batch: LogEvent[] = [];
        for (let k = 0; k < 20; k++) {
          const ts = (T0 + h * 3600_000 + (f * 20 + k) * 50_000) * 1000;
          const message = n % 3 === 0 ? `dial: ${forms[n % forms.length]} #${n}` : `ok 100% done_${n}`;
          batch.push(makeEvent({ ts, message, event_id: `e${String(n).padStart(5, '0')}` }));
          n++;
        }
        events.push(...batch);
        await store.put(`${partitionPrefix(partitionOf('acme', batch[0]!.ts))}f${f}.parquet`, encodeParquet(batch));
      }
    }
    engine = await DuckDbQueryEngine.open({ store });
    service = makeQueryService({ engine, clock: { now: () => T0 + 24 * 3600_000 }, tokenSecret: Buffer.alloc(32, 1), waitBudgetMs: 30_000 });
  });
  afterAll(async () => {
    await engine.close();
    await cleanup();
  });

  async function ids(query: string): Promise<string[]> {
    const a = await service.run({ tenant: 'acme', query, start: T0, end: T0 + 6 * 3600_000, limit: 10_000 });
    if (a.status !== 'complete') throw new Error('still running');
    return a.rows.map((r) => r[a.columns.findIndex((c) => c.name === 'event_id')] as string);
  }

  const matching = (pred: (m: string) => boolean) =>
    events
      .filter((e) => pred(e.message))
      .sort((a, b) => b.ts - a.ts)
      .map((e) => e.event_id);
  // JS lower-cases İ to i + U+0307, DuckDB to i: fold the two special code points as DuckDB does.
  const duckLower = (s: string) =>
    s
      .replace(/\u0130/g, 'i')
      .replace(/\u212A/g, 'k')
      .toLowerCase();

  it('finds every match in any case, newest first, and a limit keeps the newest ones across files and hours', async () => {
    const all = matching((m) => duckLower(m).includes('connection refused'));
    expect(all.length).toBeGreaterThan(20);
    expect(await ids('"connection REFUSED"')).toEqual(all);
    expect(await ids('"connection REFUSED" | limit 7')).toEqual(all.slice(0, 7));
    expect(await ids('"connection REFUSED" | sort @timestamp asc | limit 7')).toEqual([...all].reverse().slice(0, 7));
    expect(await ids('"İ" "K" refused')).toEqual(matching((m) => duckLower(m).includes('i') && duckLower(m).includes('k') && duckLower(m).includes('refused')));
  });

  it('settled() resolves when the query has finished, so the service answers without sleeping past it', async () => {
    const id = await engine.start({
      tenant: 'acme',
      sql: 'SELECT count(*) FROM logs',
      params: [],
      trusted: false,
      startMs: T0,
      endMs: T0 + 6 * 3600_000,
      limit: 10,
    });
    const t = performance.now();
    await engine.settled(id, 30_000);
    expect(performance.now() - t).toBeLessThan(20_000);
    expect((await engine.status(id)).state).toBe('succeeded');
    // already finished: at once
    await engine.settled(id, 30_000);
  });

  it('treats %, _ and \\ in a term as plain characters', async () => {
    expect(await ids('"100%" | limit 3')).toEqual(matching((m) => m.includes('100%')).slice(0, 3));
    expect(await ids('"conn_ection"')).toEqual(matching((m) => m.includes('conn_ection')));
    expect(await ids('"n_ection"')).toEqual(matching((m) => m.includes('n_ection')));
    expect(await ids('"e_1"')).toEqual(matching((m) => m.includes('e_1')));
    expect(await ids('"% d"')).toEqual(matching((m) => m.includes('% d')));
  });
});
