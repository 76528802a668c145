/**
 * Normalizer accuracy and speed on the loghub samples (a benchmark: it reports, it does not fail).
 *
 *   npm run bench:normalize [-- --corpora ../shared/corpora/loghub] [--json out.json]
 *
 * For every system: the share of lines whose timestamp (to the second) and level (where the system has
 * one) match the ground truth CSV, and the throughput of text-line normalization in lines/s.
 * Systems without a year in their timestamps are compared on month, day and time.
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_EVENT_LIMITS, normalizeTextLine, type RecordContext } from '../../shared/domain/normalize/record.js';
import { parseLevel } from '../../shared/domain/normalize/level.js';

const { values } = parseArgs({ options: { corpora: { type: 'string' }, json: { type: 'string' } } });
const root = resolve(values.corpora ?? join(import.meta.dirname, '../../../shared/corpora/loghub'));

/** RFC 4180 CSV (quoted fields, doubled quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

interface Expected {
  year?: number;
  month?: number;
  day?: number;
  h: number;
  m: number;
  s: number;
}

/** The expected wall-clock fields from a ground-truth row, from its Date/Day/Month/Time columns. */
function expectedTime(row: Record<string, string>): Expected | undefined {
  const time = row['Time'] ?? '';
  const exp: Partial<Expected> = {};
  const ctime = /([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d+)? (\d{4})/.exec(time);
  if (ctime) return { month: MONTHS.indexOf(ctime[1]!.toLowerCase()) + 1, day: +ctime[2]!, h: +ctime[3]!, m: +ctime[4]!, s: +ctime[5]!, year: +ctime[6]! };
  const hms = /^(\d{2}):?(\d{2}):?(\d{2})/.exec(time);
  if (!hms) return undefined;
  Object.assign(exp, { h: +hms[1]!, m: +hms[2]!, s: +hms[3]! });
  const date = row['Date'] ?? '';
  let d: RegExpExecArray | null;
  if ((d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date))) Object.assign(exp, { year: +d[1]!, month: +d[2]!, day: +d[3]! });
  else if ((d = /^(\d{2})(\d{2})(\d{2})$/.exec(date))) Object.assign(exp, { year: 2000 + +d[1]!, month: +d[2]!, day: +d[3]! });
  else if ((d = /^(\d{2})-(\d{2})$/.exec(date))) Object.assign(exp, { month: +d[1]!, day: +d[2]! });
  else if ((d = /^([A-Z][a-z]{2})$/.exec(date))) Object.assign(exp, { month: MONTHS.indexOf(d[1]!.toLowerCase()) + 1, day: +(row['Day'] ?? 0) });
  else if (/^\d{1,2}$/.test(date) && row['Month']) Object.assign(exp, { month: MONTHS.indexOf(row['Month'].toLowerCase()) + 1, day: +date });
  return exp as Expected;
}

function matches(tsMicros: number, exp: Expected): boolean {
  const d = new Date(Math.floor(tsMicros / 1000));
  return (
    (exp.year === undefined || d.getUTCFullYear() === exp.year) &&
    (exp.month === undefined || d.getUTCMonth() + 1 === exp.month) &&
    (exp.day === undefined || d.getUTCDate() === exp.day) &&
    d.getUTCHours() === exp.h &&
    d.getUTCMinutes() === exp.m &&
    d.getUTCSeconds() === exp.s
  );
}

const levelOf = (v: string) => (v.toUpperCase() === 'V' ? 'trace' : parseLevel(v)?.level);

const ctx: RecordContext = { receipt: 'BENCH', ingestedAtMicros: Date.now() * 1000, defaults: {}, limits: DEFAULT_EVENT_LIMITS };

const results: Record<string, unknown>[] = [];
console.log(`\nNormalizer accuracy on ${root}\n`);
console.log('system      lines   timestamp   level       lines/s');
for (const system of readdirSync(root).sort()) {
  const log = join(root, system, `${system}_2k.log`);
  const csv = `${log}_structured.csv`;
  if (!existsSync(log) || !existsSync(csv)) continue;
  const lines = readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const [header, ...rows] = parseCsv(readFileSync(csv, 'utf8')).filter((r) => r.length > 1);
  const truth = rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i] ?? ''])));
  const levels = truth.map((t) => levelOf(t['Level'] ?? ''));
  const hasLevels = levels.filter(Boolean).length > truth.length / 2;

  let tsOk = 0;
  let tsTotal = 0;
  let lvOk = 0;
  const misses: string[] = [];
  const t0 = performance.now();
  const events = lines.map((line, i) => normalizeTextLine(line, i, ctx));
  const ms = performance.now() - t0;
  events.forEach((e, i) => {
    const exp = truth[i] ? expectedTime(truth[i]) : undefined;
    if (exp) {
      tsTotal++;
      if (!e.ts_inferred && matches(e.ts, exp)) tsOk++;
      else if (misses.length < 3) misses.push(`ts  ${lines[i]!.slice(0, 100)}`);
    }
    if (hasLevels && e.level === levels[i]) lvOk++;
    else if (hasLevels && misses.length < 6) misses.push(`lvl ${e.level} != ${levels[i]}: ${lines[i]!.slice(0, 100)}`);
  });
  const pct = (a: number, b: number) => (b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(2)}%`);
  const rate = Math.round(lines.length / (ms / 1000));
  console.log(
    `${system.padEnd(10)} ${String(lines.length).padStart(6)}   ${pct(tsOk, tsTotal).padStart(9)}   ${(hasLevels ? pct(lvOk, lines.length) : 'n/a').padStart(7)}   ${String(rate).padStart(9)}`,
  );
  if (process.env['BENCH_VERBOSE']) for (const m of misses) console.log(`    miss: ${m}`);
  results.push({ system, lines: lines.length, timestamp: tsOk / tsTotal, level: hasLevels ? lvOk / lines.length : null, linesPerSecond: rate });
}
if (values.json) writeFileSync(values.json, JSON.stringify(results, null, 2));
console.log('');
