/**
 * Pipeline → SQL, for DuckDB (local) and Trino (Athena), from one builder that writes the few places the
 * engines differ through their dialect (dialects/). Every stage becomes one SELECT over the previous one,
 * with its columns listed explicitly, so each name resolves the same way in both engines. Every literal
 * becomes a placeholder with its value in `params`; only identifiers Sluice itself chose and validated
 * numbers are written into the text.
 */
import { BadRequestError } from '../errors.js';
import { EVENT_COLUMNS, PARTITION_COLUMNS, TABLE_NAME, type ColumnType } from '../schema.js';
import type { QueryParam, SqlDialect, SqlDialectName } from './dialects/dialect.js';
import { duckDbDialect } from './dialects/duckdb.js';
import { trinoDialect } from './dialects/trino.js';
import { parsePipeline, type Aggregate, type Expr, type GroupKey, type Literal, type Stage } from './parse.js';

export interface CompiledQuery {
  sql: string;
  params: QueryParam[];
}

const DIALECTS: Record<SqlDialectName, SqlDialect> = { duckdb: duckDbDialect, trino: trinoDialect };

type Kind = 'timestamp' | 'string' | 'number' | 'boolean' | 'map' | 'list' | 'date';

interface Column {
  /** output name */
  name: string;
  kind: Kind;
  /** text that came from an attribute or a parse: sorted as a number when it reads as one */
  loose?: boolean;
}

const KIND_OF: Record<ColumnType, Kind> = {
  timestamp: 'timestamp',
  string: 'string',
  int32: 'number',
  boolean: 'boolean',
  date: 'date',
  'map<string,string>': 'map',
  'list<string>': 'list',
};

const BASE_COLUMNS: Column[] = [...EVENT_COLUMNS, ...PARTITION_COLUMNS].map((c) => ({ name: c.name, kind: KIND_OF[c.type] }));

/** Insights' names for schema columns. */
const ALIASES: Record<string, string> = { '@timestamp': 'ts', '@message': 'message', '@logstream': 'source', '@log': 'source' };

// Output names come from the query (aliases, labels such as count(*)); quoted, any printable text is safe.
const SAFE_NAME = /^[^\x00-\x1f\x7f]{1,128}$/;

const MARK = '\u0001';

class Builder {
  private readonly values: QueryParam[] = [];
  /** Set while compiling a WHERE clause, the only place some engines take placeholders (see SqlDialect). */
  inWhere = false;
  constructor(readonly dialect: SqlDialect) {}

  param(value: QueryParam): string {
    if (this.dialect.paramsOnlyInWhere && !this.inWhere) {
      // A number written too long to be a double: the sender's mistake, said before the dialect refuses it.
      if (typeof value === 'number' && !Number.isFinite(value)) throw new BadRequestError('numbers in queries must be finite');
      return this.dialect.literal(value);
    }
    this.values.push(value);
    return `${MARK}${this.values.length - 1}${MARK}`;
  }

  /**
   * Resolves parameter markers to the dialect's placeholders: numbered ones name each value once;
   * positional ones take the values in text order, repeated where a marker repeats (an expression can
   * appear twice in the SQL).
   */
  finish(sql: string): CompiledQuery {
    const d = this.dialect;
    const params: QueryParam[] = [];
    const text = sql.replace(new RegExp(`${MARK}(\\d+)${MARK}`, 'g'), (_m, i: string) => {
      if (!d.positionalParams) return d.placeholder(Number(i));
      params.push(this.values[Number(i)]!);
      return d.placeholder(params.length - 1);
    });
    return { sql: text, params: d.positionalParams ? params : [...this.values] };
  }
  mapGet(map: string, key: string): string {
    return this.dialect.mapGet(map, this.param(key));
  }
  regexMatch(s: string, pattern: string): string {
    return this.dialect.regexMatches(s, this.param(pattern));
  }
  contains(s: string, needle: string, caseInsensitive: boolean): string {
    if (caseInsensitive) {
      const folded = this.dialect.caseFoldPattern(needle);
      if (folded !== undefined) return this.dialect.regexMatches(s, this.param(folded));
    }
    const hay = caseInsensitive ? `lower(${s})` : s;
    const p = caseInsensitive ? `lower(${this.param(needle)})` : this.param(needle);
    return this.dialect.contains(hay, p);
  }
  timestampParam(iso: string): string {
    return this.dialect.timestampFromIso(this.param(iso));
  }
  bin(ts: string, seconds: number): string {
    return this.dialect.bin(ts, seconds);
  }
  percentile(x: string, fraction: number): string {
    return this.dialect.percentile(x, this.param(fraction));
  }
  listContains(list: string, value: string): string {
    return this.dialect.listContains(list, value);
  }
  /** A column name, quoted; the names Sluice writes itself ("ts", "message", …) are written quoted already. */
  ident(name: string): string {
    if (!SAFE_NAME.test(name)) throw new BadRequestError(`${JSON.stringify(name)} cannot be used as a field name`);
    return this.dialect.quoteIdentifier(name);
  }
  toDouble(x: string): string {
    return `TRY_CAST(${x} AS DOUBLE)`;
  }
  length(x: string): string {
    return `length(${x})`;
  }
}

interface Layer {
  columns: Column[];
  sql: string;
  /** the SQL ends in an ORDER BY with no LIMIT yet (a following limit stage joins it) */
  openOrder?: boolean;
}

interface Typed {
  sql: string;
  kind: Kind;
  loose?: boolean;
}

class Scope {
  constructor(
    readonly columns: Column[],
    private readonly stage: string,
  ) {}

  /** A field reference: a column of this layer, an Insights alias, or an attribute (before fields/stats). */
  field(name: string, b: Builder, pos?: number): Typed {
    const alias = ALIASES[name.toLowerCase()];
    const direct = this.columns.find((c) => c.name === (alias ?? name));
    if (direct) return { sql: b.ident(direct.name), kind: direct.kind, ...(direct.loose ? { loose: true } : {}) };
    const hasAttributes = this.columns.some((c) => c.name === 'attributes' && c.kind === 'map');
    if (hasAttributes) {
      const key = name.startsWith('attributes.') ? name.slice('attributes.'.length) : name;
      if (key === '') throw new BadRequestError('attributes. needs a key after the dot');
      return { sql: b.mapGet('"attributes"', key), kind: 'string', loose: true };
    }
    throw new BadRequestError(
      `unknown field ${JSON.stringify(name)} in ${this.stage}${pos !== undefined ? ` (at offset ${pos})` : ''}; the fields here are: ${this.columns.map((c) => c.name).join(', ')}`,
    );
  }
}

function literalSql(lit: Literal, b: Builder, against: Kind): Typed {
  switch (lit.kind) {
    case 'null':
      return { sql: 'NULL', kind: against };
    case 'bool':
      return { sql: b.param(lit.value), kind: 'boolean' };
    case 'number':
      return { sql: b.param(lit.value), kind: 'number' };
    case 'string':
      if (against === 'timestamp') return { sql: b.timestampParam(lit.value), kind: 'timestamp' };
      return { sql: b.param(lit.value), kind: 'string' };
  }
}

const SCALAR_FUNCTIONS: Record<string, { args: number; kind: Kind; sql: (b: Builder, a: Typed[]) => string }> = {
  ispresent: { args: 1, kind: 'boolean', sql: (_b, [a]) => `(${a!.sql} IS NOT NULL)` },
  isempty: { args: 1, kind: 'boolean', sql: (_b, [a]) => `(${a!.sql} IS NULL OR CAST(${a!.sql} AS VARCHAR) = '')` },
  strlen: { args: 1, kind: 'number', sql: (b, [a]) => b.length(a!.sql) },
  tolower: { args: 1, kind: 'string', sql: (_b, [a]) => `lower(${a!.sql})` },
  toupper: { args: 1, kind: 'string', sql: (_b, [a]) => `upper(${a!.sql})` },
  abs: { args: 1, kind: 'number', sql: (b, [a]) => `abs(${num(b, a!)})` },
  floor: { args: 1, kind: 'number', sql: (b, [a]) => `floor(${num(b, a!)})` },
  ceil: { args: 1, kind: 'number', sql: (b, [a]) => `ceil(${num(b, a!)})` },
  /** tag("deploy"): the event carries this tag */
  tag: { args: 1, kind: 'boolean', sql: (b, [a]) => b.listContains('"tags"', a!.sql) },
};

function num(b: Builder, t: Typed): string {
  return t.kind === 'number' ? t.sql : b.toDouble(t.sql);
}

function expr(e: Expr, scope: Scope, b: Builder): Typed {
  switch (e.kind) {
    case 'literal':
      return literalSql(e.value, b, 'string');
    case 'field':
      return scope.field(e.name, b, e.pos);
    case 'call': {
      const fn = SCALAR_FUNCTIONS[e.name];
      if (!fn) throw new BadRequestError(`unknown function ${e.name}() (at offset ${e.pos}); functions: ${Object.keys(SCALAR_FUNCTIONS).join(', ')}`);
      if (e.args.length !== fn.args) throw new BadRequestError(`${e.name}() takes ${fn.args} argument(s)`);
      return {
        sql: fn.sql(
          b,
          e.args.map((a) => expr(a, scope, b)),
        ),
        kind: fn.kind,
      };
    }
    case 'not':
      return { sql: `(NOT ${expr(e.expr, scope, b).sql})`, kind: 'boolean' };
    case 'like': {
      const s = expr(e.expr, scope, b);
      const text = s.kind === 'string' ? s.sql : `CAST(${s.sql} AS VARCHAR)`;
      const test = e.regex ? b.regexMatch(text, e.pattern) : b.contains(text, e.pattern, false);
      return { sql: e.negated ? `(NOT coalesce(${test}, false))` : `coalesce(${test}, false)`, kind: 'boolean' };
    }
    case 'in': {
      const left = expr(e.expr, scope, b);
      const numeric = e.values.every((v) => v.kind === 'number');
      const l = numeric ? num(b, left) : left.sql;
      const values = e.values.map((v) => literalSql(v, b, left.kind).sql);
      return { sql: `(${l} ${e.negated ? 'NOT IN' : 'IN'} (${values.join(', ')}))`, kind: 'boolean' };
    }
    case 'binary': {
      // A chain (a AND b AND c, x + y - z) is written as one parenthesis, not one per operator: the parser
      // builds it left-deep, and nested parentheses cost the Trino grammar Athena's SQL is checked with time
      // that grows steeply with depth (128 ANDs took 80 s). Operands are compiled left to right, as written,
      // so their placeholders stay in order.
      if (e.op === 'and' || e.op === 'or') {
        const terms = chain(e, [e.op]);
        return { sql: `(${terms.map((t) => expr(t.operand, scope, b).sql).join(` ${e.op.toUpperCase()} `)})`, kind: 'boolean' };
      }
      if (['+', '-', '*', '/'].includes(e.op)) {
        const terms = chain(e, e.op === '+' || e.op === '-' ? ['+', '-'] : ['*', '/']);
        const sql = terms.map((t, i) => `${i === 0 ? '' : ` ${t.op} `}${num(b, expr(t.operand, scope, b))}`).join('');
        return { sql: `(${sql})`, kind: 'number' };
      }
      const left = expr(e.left, scope, b);
      const right = e.right.kind === 'literal' ? literalSql(e.right.value, b, left.kind) : expr(e.right, scope, b);
      if (e.right.kind === 'literal' && e.right.value.kind === 'null') {
        return { sql: `(${left.sql} IS ${e.op === '=' ? '' : 'NOT '}NULL)`, kind: 'boolean' };
      }
      // Attributes are strings: compared with a number, they are read as numbers.
      const numeric = left.kind === 'number' || right.kind === 'number';
      const l = numeric ? num(b, left) : left.sql;
      const r = numeric ? num(b, right) : right.sql;
      const op = e.op === '!=' ? '<>' : e.op;
      return { sql: `(${l} ${op} ${r})`, kind: 'boolean' };
    }
  }
}

/** The operands of a left-deep chain of operators of one precedence, left to right, each with the operator before it. */
function chain(e: Expr, ops: readonly string[]): { op: string; operand: Expr }[] {
  const out: { op: string; operand: Expr }[] = [];
  let cur = e;
  while (cur.kind === 'binary' && ops.includes(cur.op)) {
    out.push({ op: cur.op, operand: cur.right });
    cur = cur.left;
  }
  out.push({ op: '', operand: cur });
  return out.reverse();
}

function aggregateSql(a: Aggregate, scope: Scope, b: Builder): string {
  if (a.fn === 'count') return a.arg ? `count(${expr(a.arg, scope, b).sql})` : 'count(*)';
  const arg = expr(a.arg!, scope, b);
  switch (a.fn) {
    case 'count_distinct':
      return `count(DISTINCT ${arg.sql})`;
    case 'sum':
    case 'avg':
      return `${a.fn}(${num(b, arg)})`;
    case 'min':
    case 'max':
      return `${a.fn}(${arg.loose ? num(b, arg) : arg.sql})`;
    case 'pct':
      return b.percentile(num(b, arg), a.percentile! / 100);
  }
}

function exprLabel(e: Expr): string {
  switch (e.kind) {
    case 'field':
      return e.name;
    case 'call':
      return `${e.name}(${e.args.map(exprLabel).join(', ')})`;
    case 'literal':
      return e.value.kind === 'string' ? e.value.value : e.value.kind === 'null' ? 'null' : String(e.value.value);
    default:
      return 'expr';
  }
}

function aggLabel(a: Aggregate): string {
  if (a.fn === 'count') return a.arg ? `count(${exprLabel(a.arg)})` : 'count(*)';
  if (a.fn === 'pct') return `pct(${exprLabel(a.arg!)}, ${a.percentile})`;
  return `${a.fn}(${exprLabel(a.arg!)})`;
}

function globToRegex(glob: string): string {
  return `^${glob
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('(.*?)')}$`;
}

/** ORDER BY terms: text from attributes sorts as numbers when it reads as one, then as text. */
function orderTerm(sql: string, loose: boolean | undefined, desc: boolean): string {
  const dir = desc ? 'DESC' : 'ASC';
  return loose ? `TRY_CAST(${sql} AS DOUBLE) ${dir} NULLS LAST, ${sql} ${dir} NULLS LAST` : `${sql} ${dir} NULLS LAST`;
}

function select(b: Builder, columns: { sql: string; name: string }[], from: string, tail = ''): string {
  return `SELECT ${columns.map((c) => `${c.sql} AS ${b.ident(c.name)}`).join(', ')} FROM (${from}) AS s${tail}`;
}

const passthrough = (b: Builder, cols: Column[]) => cols.map((c) => ({ sql: b.ident(c.name), name: c.name }));

function unique(names: string[], stage: string): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new BadRequestError(`${stage} names ${JSON.stringify(n)} twice; use as to rename one`);
    seen.add(n);
  }
}

/** Compiles a parsed pipeline to one SQL statement over `logs` with its parameters. */
export function compileStages(stages: Stage[], dialect: SqlDialect | SqlDialectName, limit?: number): CompiledQuery {
  const b = new Builder(typeof dialect === 'string' ? DIALECTS[dialect] : dialect);
  let layer: Layer = { columns: BASE_COLUMNS, sql: `SELECT * FROM ${TABLE_NAME}` };
  let lastSort: { keys: { name: string; desc: boolean; loose?: boolean | undefined }[] } | undefined;
  let sawStats = false;
  let binColumn: string | undefined;
  let sawSort = false;

  for (const stage of stages) {
    const scope = new Scope(layer.columns, stage.kind);
    switch (stage.kind) {
      case 'search': {
        const message = scope.columns.some((c) => c.name === 'message') ? '"message"' : undefined;
        if (!message) throw new BadRequestError('search terms look in message, which is not among the fields here; put the search before fields or stats');
        b.inWhere = true;
        const conds = stage.terms.map((t) => b.contains(message, t, true));
        b.inWhere = false;
        layer = { columns: layer.columns, sql: `${select(b, passthrough(b, layer.columns), layer.sql)} WHERE ${conds.join(' AND ')}` };
        break;
      }
      case 'filter': {
        b.inWhere = true;
        const cond = expr(stage.expr, scope, b);
        b.inWhere = false;
        layer = { columns: layer.columns, sql: `${select(b, passthrough(b, layer.columns), layer.sql)} WHERE coalesce(${cond.sql}, false)` };
        break;
      }
      case 'parse': {
        const source = expr(stage.field, scope, b);
        const text = source.kind === 'string' ? source.sql : `CAST(${source.sql} AS VARCHAR)`;
        const pattern = stage.regex ? stage.pattern.replace(/\(\?P?<[A-Za-z_]\w*>/g, '(') : globToRegex(stage.pattern);
        const extracted = stage.names.map((name, i) => ({
          // regexp_extract gives '' when nothing matches; NULL reads better and makes ispresent() work.
          sql: `nullif(regexp_extract(${text}, ${b.param(pattern)}, ${i + 1}), '')`,
          name,
        }));
        const kept = layer.columns.filter((c) => !stage.names.includes(c.name));
        unique(stage.names, 'parse');
        layer = {
          columns: [...kept, ...stage.names.map((name): Column => ({ name, kind: 'string', loose: true }))],
          sql: select(b, [...passthrough(b, kept), ...extracted], layer.sql),
        };
        break;
      }
      case 'fields': {
        const cols = stage.fields.map((f) => {
          const t = expr(f.expr, scope, b);
          const name = f.alias ?? (f.expr.kind === 'field' ? (ALIASES[f.expr.name.toLowerCase()] ?? f.expr.name) : exprLabel(f.expr));
          return { sql: t.sql, name, kind: t.kind, loose: t.loose };
        });
        unique(
          cols.map((c) => c.name),
          'fields',
        );
        layer = { columns: cols.map((c) => ({ name: c.name, kind: c.kind, ...(c.loose ? { loose: true } : {}) })), sql: select(b, cols, layer.sql) };
        break;
      }
      case 'stats': {
        const groups = stage.by.map((g) => groupSql(g, scope, b));
        const aggs = stage.aggregates.map((a): Column & { sql: string } => ({
          sql: aggregateSql(a.expr, scope, b),
          name: a.alias ?? aggLabel(a.expr),
          kind: 'number',
        }));
        const all = [...groups, ...aggs];
        unique(
          all.map((c) => c.name),
          'stats',
        );
        const groupBy = groups.length > 0 ? ` GROUP BY ${groups.map((_, i) => i + 1).join(', ')}` : '';
        layer = {
          columns: all.map((c) => ({ name: c.name, kind: c.kind, ...('loose' in c && c.loose ? { loose: true } : {}) })),
          sql: `${select(b, all, layer.sql)}${groupBy}`,
        };
        sawStats = true;
        binColumn = groups.find((g) => g.isBin)?.name;
        break;
      }
      case 'sort': {
        const keys = stage.keys.map((k) => {
          const t = expr(k.expr, scope, b);
          const name =
            k.expr.kind === 'field'
              ? scope.columns.find((c) => c.name === (ALIASES[(k.expr as { name: string }).name.toLowerCase()] ?? (k.expr as { name: string }).name))?.name
              : undefined;
          return { sql: t.sql, name, desc: k.desc, loose: t.loose };
        });
        const order = keys.map((k) => orderTerm(k.sql, k.loose, k.desc)).join(', ');
        // The ORDER BY takes effect with a LIMIT here (Trino drops an unlimited ORDER BY in a subquery); the
        // final order is applied again at the top.
        layer = { columns: layer.columns, sql: `${select(b, passthrough(b, layer.columns), layer.sql)} ORDER BY ${order}`, openOrder: true };
        lastSort = keys.every((k) => k.name) ? { keys: keys.map((k) => ({ name: k.name!, desc: k.desc, loose: k.loose })) } : undefined;
        sawSort = true;
        break;
      }
      case 'limit': {
        if (layer.openOrder) {
          layer = { columns: layer.columns, sql: `${layer.sql} LIMIT ${stage.count}` };
        } else {
          // Without a sort, events are newest first (as Insights shows them), so a limit keeps the newest.
          const newestFirst = !sawSort && !sawStats && layer.columns.some((c) => c.name === 'ts') ? ' ORDER BY "ts" DESC' : '';
          layer = { columns: layer.columns, sql: `${select(b, passthrough(b, layer.columns), layer.sql)}${newestFirst} LIMIT ${stage.count}` };
        }
        break;
      }
      case 'dedup': {
        const keys = stage.fields.map((f) => expr(f, scope, b).sql);
        const order = lastSort
          ? lastSort.keys.map((k) => orderTerm(b.ident(k.name), k.loose, k.desc)).join(', ')
          : scope.columns.some((c) => c.name === 'ts')
            ? '"ts" DESC'
            : keys.join(', ');
        const numbered = `SELECT ${passthrough(b, layer.columns)
          .map((c) => c.sql)
          .join(', ')}, row_number() OVER (PARTITION BY ${keys.join(', ')} ORDER BY ${order}) AS "__dedup_rank" FROM (${layer.sql}) AS d`;
        layer = { columns: layer.columns, sql: `${select(b, passthrough(b, layer.columns), numbered)} WHERE "__dedup_rank" = 1` };
        break;
      }
    }
  }

  // The final order: the last sort (if its fields are still there), else bins in time order after stats,
  // else newest first, as Insights shows events.
  const has = (n: string) => layer.columns.some((c) => c.name === n);
  let finalOrder: string | undefined;
  if (lastSort && lastSort.keys.every((k) => has(k.name))) {
    finalOrder = lastSort.keys.map((k) => orderTerm(b.ident(k.name), layer.columns.find((c) => c.name === k.name)?.loose, k.desc)).join(', ');
  } else if (!sawSort && sawStats && binColumn && has(binColumn)) {
    finalOrder = `${b.ident(binColumn)} ASC`;
  } else if (!sawSort && !sawStats && has('ts')) {
    finalOrder = '"ts" DESC';
  }
  const top = `${select(b, passthrough(b, layer.columns), layer.sql)}${finalOrder ? ` ORDER BY ${finalOrder}` : ''}${limit ? ` LIMIT ${Math.floor(limit)}` : ''}`;
  return b.finish(top);
}

function groupSql(g: { expr: GroupKey; alias?: string }, scope: Scope, b: Builder): { sql: string; name: string; kind: Kind; isBin: boolean; loose?: boolean } {
  if (g.expr.kind === 'bin') {
    const ts = scope.field('ts', b);
    if (ts.kind !== 'timestamp') throw new BadRequestError('bin() groups by time, but ts is not among the fields here');
    return { sql: b.bin(ts.sql, g.expr.seconds), name: g.alias ?? g.expr.label, kind: 'timestamp', isBin: true };
  }
  const t = expr(g.expr.expr, scope, b);
  const e = g.expr.expr;
  const name = g.alias ?? (e.kind === 'field' ? (ALIASES[e.name.toLowerCase()] ?? e.name) : exprLabel(e));
  return { sql: t.sql, name, kind: t.kind, isBin: false, ...(t.loose ? { loose: true } : {}) };
}

/** Parses and compiles a pipeline query for a dialect (or the name of one). */
export function compilePipeline(query: string, dialect: SqlDialect | SqlDialectName, limit?: number): CompiledQuery {
  return compileStages(parsePipeline(query), dialect, limit);
}
