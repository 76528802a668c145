/**
 * The pipeline language, modelled on CloudWatch Logs Insights:
 *
 *   "connection refused" timeout
 *   | filter level in ["error", "fatal"] and service != "billing" and duration_ms > 500
 *   | parse message "user=* action=*" as user, action
 *   | stats count(*) as errors, pct(duration_ms, 95) by service, bin(5m)
 *   | sort errors desc | limit 20
 *
 * A hand-written recursive-descent parser: the language is small, and what matters most is the error a
 * person gets ("line 1, column 18: expected a field name after 'by'"), which a parser generator makes
 * harder to word well.
 */
import { BadRequestError } from '../errors.js';

// ------------------------------------------------------------------ AST

export type Literal = { kind: 'string'; value: string } | { kind: 'number'; value: number } | { kind: 'bool'; value: boolean } | { kind: 'null' };

export type Expr =
  | { kind: 'literal'; value: Literal }
  | { kind: 'field'; name: string; pos: number }
  | { kind: 'call'; name: string; args: Expr[]; pos: number }
  | { kind: 'binary'; op: '=' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | 'and' | 'or'; left: Expr; right: Expr }
  | { kind: 'not'; expr: Expr }
  | { kind: 'like'; expr: Expr; pattern: string; regex: boolean; negated: boolean }
  | { kind: 'in'; expr: Expr; values: Literal[]; negated: boolean };

export interface Aliased<T> {
  expr: T;
  alias?: string;
}

export type Aggregate = { fn: 'count' | 'count_distinct' | 'sum' | 'avg' | 'min' | 'max' | 'pct'; arg?: Expr; percentile?: number; pos: number };
export type GroupKey = { kind: 'bin'; seconds: number; label: string } | { kind: 'expr'; expr: Expr };

export type Stage =
  | { kind: 'search'; terms: string[] }
  | { kind: 'filter'; expr: Expr }
  | { kind: 'fields'; fields: Aliased<Expr>[] }
  | { kind: 'parse'; field: Expr; pattern: string; regex: boolean; names: string[]; pos: number }
  | { kind: 'stats'; aggregates: Aliased<Aggregate>[]; by: Aliased<GroupKey>[] }
  | { kind: 'sort'; keys: { expr: Expr; desc: boolean }[] }
  | { kind: 'limit'; count: number }
  | { kind: 'dedup'; fields: Expr[] };

// ------------------------------------------------------------------ lexer

type TokenKind = 'ident' | 'string' | 'regex' | 'number' | 'duration' | 'op' | 'punct' | 'eof';

interface Token {
  kind: TokenKind;
  text: string;
  pos: number;
  /** parsed value for string, regex, number, duration (seconds) */
  value?: string | number;
}

export const MAX_QUERY_LENGTH = 10_000;
/**
 * How deep parentheses, `not` and function calls may nest, and how many operators one expression may hold.
 * Without bounds a 10,000-character query could nest 5,000 levels: the parser's recursion overflowed the
 * stack (a 500), and the compiled SQL took Athena's SQL check (the Trino grammar) minutes. A person's
 * query stays far below both.
 */
export const MAX_NESTING = 32;
export const MAX_OPERATORS = 256;

/** A syntax error with its place in the query and what was expected there. */
export class QuerySyntaxError extends BadRequestError {
  constructor(
    readonly query: string,
    readonly pos: number,
    expected: string,
  ) {
    const before = query.slice(0, pos);
    const line = before.split('\n').length;
    const column = pos - before.lastIndexOf('\n');
    const near = query.slice(pos, pos + 20);
    super(`line ${line}, column ${column}: ${expected}${near ? ` (at ${JSON.stringify(near)})` : ' (at the end of the query)'}`, {
      position: { line, column, offset: pos },
    });
  }
}

const DURATION_UNITS: Record<string, number> = { s: 1, sec: 1, m: 60, min: 60, h: 3600, hr: 3600, d: 86400, day: 86400 };

function lex(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const err = (pos: number, msg: string) => new QuerySyntaxError(query, pos, msg);
  const regexAllowed = () => {
    const prev = tokens.at(-1);
    if (!prev) return false;
    if (prev.kind === 'ident' && /^(like)$/i.test(prev.text)) return true;
    if (prev.kind === 'op' && (prev.text === '=~' || prev.text === '!~')) return true;
    // parse <field> /regex/
    const before = tokens.at(-2);
    return before?.kind === 'ident' && before.text.toLowerCase() === 'parse';
  };
  while (i < query.length) {
    const c = query[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === '"' || c === "'") {
      let value = '';
      i++;
      while (i < query.length && query[i] !== c) {
        if (query[i] === '\\' && i + 1 < query.length) {
          const n = query[i + 1]!;
          value += n === 'n' ? '\n' : n === 't' ? '\t' : n;
          i += 2;
        } else value += query[i++];
      }
      if (i >= query.length) throw err(start, `this string is not closed: add a ${c}`);
      i++;
      tokens.push({ kind: 'string', text: query.slice(start, i), pos: start, value });
      continue;
    }
    if (c === '/' && regexAllowed()) {
      let value = '';
      i++;
      while (i < query.length && query[i] !== '/') {
        if (query[i] === '\\' && query[i + 1] === '/') {
          value += '/';
          i += 2;
        } else value += query[i++];
      }
      if (i >= query.length) throw err(start, 'this regular expression is not closed: add a /');
      i++;
      let flags = '';
      while (i < query.length && /[a-z]/i.test(query[i]!)) flags += query[i++];
      if (flags && flags !== 'i') throw err(i - flags.length, `unknown regular expression flag ${JSON.stringify(flags)} (only i is supported)`);
      tokens.push({ kind: 'regex', text: query.slice(start, i), pos: start, value: flags === 'i' ? `(?i)${value}` : value });
      continue;
    }
    if (c === '`') {
      const end = query.indexOf('`', i + 1);
      if (end < 0) throw err(start, 'this quoted field name is not closed: add a `');
      tokens.push({ kind: 'ident', text: query.slice(i + 1, end), pos: start, value: 'quoted' });
      i = end + 1;
      continue;
    }
    const num = /^(\d+(?:\.\d+)?)(?:(sec|min|hr|day|ms|s|m|h|d)\b)?/.exec(query.slice(i));
    if (num && /[0-9]/.test(c)) {
      i += num[0].length;
      if (num[2]) {
        if (num[2] === 'ms') throw err(start, 'bin() takes seconds or more (s, m, h, d)');
        tokens.push({ kind: 'duration', text: num[0], pos: start, value: Number(num[1]) * DURATION_UNITS[num[2]]! });
      } else tokens.push({ kind: 'number', text: num[0], pos: start, value: Number(num[1]) });
      continue;
    }
    const ident = /^@?[A-Za-z_][\w.]*/.exec(query.slice(i));
    if (ident) {
      i += ident[0].length;
      tokens.push({ kind: 'ident', text: ident[0], pos: start });
      continue;
    }
    const op = /^(=~|!~|!=|<>|<=|>=|==|=|<|>|\+|-|\*|\/)/.exec(query.slice(i));
    if (op) {
      i += op[0].length;
      tokens.push({ kind: 'op', text: op[0] === '==' ? '=' : op[0] === '<>' ? '!=' : op[0], pos: start });
      continue;
    }
    if ('|,()[]'.includes(c)) {
      i++;
      tokens.push({ kind: 'punct', text: c, pos: start });
      continue;
    }
    throw err(start, `unexpected character ${JSON.stringify(c)}`);
  }
  tokens.push({ kind: 'eof', text: '', pos: query.length });
  return tokens;
}

// ------------------------------------------------------------------ parser

const COMMANDS = new Set(['fields', 'filter', 'parse', 'stats', 'sort', 'limit', 'dedup', 'display', 'search']);
const AGGREGATES = new Set(['count', 'count_distinct', 'sum', 'avg', 'min', 'max', 'pct', 'percentile']);
const RESERVED = new Set(['and', 'or', 'not', 'in', 'like', 'as', 'by', 'asc', 'desc', 'true', 'false', 'null']);

class Parser {
  private i = 0;
  /** nesting of (…), not and calls at this point, and operators in the current expression */
  private depth = 0;
  private operators = 0;
  constructor(
    private readonly query: string,
    private readonly tokens: Token[],
  ) {}

  private get tok(): Token {
    return this.tokens[this.i]!;
  }
  private err(expected: string, at = this.tok): QuerySyntaxError {
    return new QuerySyntaxError(this.query, at.pos, expected);
  }
  private isWord(word: string, t = this.tok): boolean {
    return t.kind === 'ident' && t.value !== 'quoted' && t.text.toLowerCase() === word;
  }
  private acceptWord(word: string): boolean {
    if (!this.isWord(word)) return false;
    this.i++;
    return true;
  }
  private expectWord(word: string, what: string): void {
    if (!this.acceptWord(word)) throw this.err(what);
  }
  private acceptPunct(p: string): boolean {
    if (this.tok.kind === 'punct' && this.tok.text === p) {
      this.i++;
      return true;
    }
    return false;
  }
  private expectPunct(p: string, what: string): void {
    if (!this.acceptPunct(p)) throw this.err(what);
  }

  parse(): Stage[] {
    const stages: Stage[] = [];
    if (this.tok.kind === 'eof') throw this.err('the query is empty: try `filter level = "error"` or a search term');
    if (!this.isCommand()) stages.push(this.search());
    else stages.push(this.stage());
    while (this.acceptPunct('|')) stages.push(this.isCommand() ? this.stage() : this.search());
    if (!this.atEnd()) throw this.err(`expected | and the next command (${[...COMMANDS].filter((c) => c !== 'display').join(', ')})`);
    return stages;
  }

  private atEnd(): boolean {
    return this.tok.kind === 'eof';
  }

  private isCommand(): boolean {
    return this.tok.kind === 'ident' && this.tok.value !== 'quoted' && COMMANDS.has(this.tok.text.toLowerCase());
  }

  private search(): Stage {
    if (this.isWord('search')) this.i++;
    const terms: string[] = [];
    while (this.tok.kind === 'string' || this.tok.kind === 'number' || (this.tok.kind === 'ident' && !this.isCommand())) {
      terms.push(this.tok.kind === 'string' ? String(this.tok.value) : this.tok.text);
      this.i++;
    }
    if (terms.length === 0) throw this.err(`expected a command (${[...COMMANDS].filter((c) => c !== 'display').join(', ')}) or search terms`);
    return { kind: 'search', terms };
  }

  private stage(): Stage {
    const cmd = this.tok.text.toLowerCase();
    this.i++;
    switch (cmd) {
      case 'filter':
        return { kind: 'filter', expr: this.expression() };
      case 'fields':
      case 'display':
        return { kind: 'fields', fields: this.list(() => this.aliased(() => this.expression())) };
      case 'parse':
        return this.parseStage();
      case 'stats':
        return this.stats();
      case 'sort':
        return {
          kind: 'sort',
          keys: this.list(() => {
            const expr = this.expression();
            const desc = this.acceptWord('desc') ? true : (this.acceptWord('asc'), false);
            return { expr, desc };
          }),
        };
      case 'limit': {
        const t = this.tok;
        if (t.kind !== 'number' || !Number.isInteger(t.value) || (t.value as number) < 1) throw this.err('expected a whole number after limit');
        this.i++;
        return { kind: 'limit', count: t.value as number };
      }
      case 'dedup':
        return { kind: 'dedup', fields: this.list(() => this.fieldRef('a field name after dedup')) };
      default:
        throw this.err(`unknown command ${cmd}`);
    }
  }

  private list<T>(item: () => T): T[] {
    const out = [item()];
    while (this.acceptPunct(',')) out.push(item());
    return out;
  }

  private aliased<T>(item: () => T): Aliased<T> {
    const expr = item();
    if (this.acceptWord('as')) return { expr, alias: this.name('a name after as') };
    return { expr };
  }

  private name(what: string): string {
    const t = this.tok;
    if (t.kind !== 'ident' || (t.value !== 'quoted' && RESERVED.has(t.text.toLowerCase()))) throw this.err(`expected ${what}`);
    this.i++;
    return t.text;
  }

  private fieldRef(what: string): Expr {
    const t = this.tok;
    if (t.kind !== 'ident' || (t.value !== 'quoted' && RESERVED.has(t.text.toLowerCase()))) throw this.err(`expected ${what}`);
    this.i++;
    return { kind: 'field', name: t.text, pos: t.pos };
  }

  private parseStage(): Stage {
    const pos = this.tok.pos;
    const field = this.fieldRef('the field to parse after parse (for example message)');
    const t = this.tok;
    if (t.kind === 'string') {
      this.i++;
      const pattern = String(t.value);
      const stars = pattern.split('*').length - 1;
      if (stars === 0) throw this.err('a parse pattern needs at least one * to capture', t);
      this.expectWord('as', `expected as and ${stars} name(s) for the * in the pattern`);
      const names = this.list(() => this.name('a name for a captured value'));
      if (names.length !== stars) throw this.err(`the pattern has ${stars} * but ${names.length} name(s) follow as`, t);
      return { kind: 'parse', field, pattern, regex: false, names, pos };
    }
    if (t.kind === 'regex') {
      this.i++;
      const pattern = String(t.value);
      const names = [...pattern.matchAll(/\(\?P?<([A-Za-z_]\w*)>/g)].map((m) => m[1]!);
      if (names.length === 0) throw this.err('a parse regular expression needs named groups such as (?<user>\\w+)', t);
      try {
        new RegExp(pattern.replace(/^\(\?i\)/, '').replace(/\(\?P</g, '(?<'));
      } catch (e) {
        throw this.err(`this is not a valid regular expression: ${(e as Error).message}`, t);
      }
      return { kind: 'parse', field, pattern, regex: true, names, pos };
    }
    throw this.err('expected a pattern in quotes ("user=* id=*") or a regular expression (/user=(?<user>\\w+)/)');
  }

  private stats(): Stage {
    const aggregates = this.list(() => this.aliased(() => this.aggregate()));
    let by: Aliased<GroupKey>[] = [];
    if (this.acceptWord('by')) {
      by = this.list(() =>
        this.aliased((): GroupKey => {
          if (this.isWord('bin') && this.tokens[this.i + 1]?.text === '(') {
            this.i += 2;
            const d = this.tok;
            if (d.kind !== 'duration' && d.kind !== 'number') throw this.err('expected a period in bin(), such as 5m, 1h or 30s');
            this.i++;
            const seconds = d.kind === 'number' ? Number(d.value) : Number(d.value);
            if (!(seconds >= 1) || !Number.isInteger(seconds)) throw this.err('bin() takes a whole number of seconds or more', d);
            this.expectPunct(')', 'expected ) after the bin period');
            return { kind: 'bin', seconds, label: `bin(${d.text})` };
          }
          return { kind: 'expr', expr: this.expression() };
        }),
      );
    }
    return { kind: 'stats', aggregates, by };
  }

  private aggregate(): Aggregate {
    const t = this.tok;
    const fn = t.kind === 'ident' ? t.text.toLowerCase() : '';
    if (!AGGREGATES.has(fn) || this.tokens[this.i + 1]?.text !== '(') {
      throw this.err(
        `expected an aggregate: ${[...AGGREGATES]
          .filter((a) => a !== 'percentile')
          .map((a) => `${a}(…)`)
          .join(', ')}`,
      );
    }
    this.i += 2;
    if (fn === 'count' && this.tok.kind === 'op' && this.tok.text === '*') {
      this.i++;
      this.expectPunct(')', 'expected ) after count(*');
      return { fn: 'count', pos: t.pos };
    }
    if (fn === 'count' && this.acceptPunct(')')) return { fn: 'count', pos: t.pos };
    const arg = this.expression();
    if (fn === 'pct' || fn === 'percentile') {
      this.expectPunct(',', 'expected , and a percentile after the field, as in pct(duration_ms, 95)');
      const p = this.tok;
      if (p.kind !== 'number' || (p.value as number) <= 0 || (p.value as number) >= 100) throw this.err('expected a percentile between 0 and 100');
      this.i++;
      this.expectPunct(')', 'expected ) after the percentile');
      return { fn: 'pct', arg, percentile: p.value as number, pos: t.pos };
    }
    this.expectPunct(')', `expected ) to close ${fn}(`);
    return { fn: fn as Aggregate['fn'], arg, pos: t.pos };
  }

  // expressions -------------------------------------------------------
  /** Parses one nested level (a parenthesis, a not, a call's arguments), refusing more than MAX_NESTING. */
  private nested<T>(at: Token, parse: () => T): T {
    if (++this.depth > MAX_NESTING)
      throw this.err(`expressions may nest at most ${MAX_NESTING} levels deep (parentheses, not, function calls); write this one flatter`, at);
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }
  /** Counts an operator of the current expression, refusing more than MAX_OPERATORS. */
  private operator(at: Token): void {
    if (++this.operators > MAX_OPERATORS)
      throw this.err(`an expression may hold at most ${MAX_OPERATORS} operators; split it, or use in [...] for many values`, at);
  }
  /** A whole expression (a filter's condition, a field's value): the operator budget is per expression. */
  private expression(): Expr {
    if (this.depth === 0) this.operators = 0;
    return this.expr();
  }
  private expr(): Expr {
    let left = this.and();
    while (this.isWord('or')) {
      this.operator(this.tok);
      this.i++;
      left = { kind: 'binary', op: 'or', left, right: this.and() };
    }
    return left;
  }
  private and(): Expr {
    let left = this.not();
    while (this.isWord('and')) {
      this.operator(this.tok);
      this.i++;
      left = { kind: 'binary', op: 'and', left, right: this.not() };
    }
    return left;
  }
  private not(): Expr {
    const t = this.tok;
    if (this.acceptWord('not')) return this.nested(t, () => ({ kind: 'not', expr: this.not() }));
    return this.comparison();
  }
  private comparison(): Expr {
    const left = this.additive();
    const t = this.tok;
    if (t.kind === 'op' && ['=', '!=', '<', '<=', '>', '>='].includes(t.text)) {
      this.operator(t);
      this.i++;
      return { kind: 'binary', op: t.text as '=', left, right: this.additive() };
    }
    if (t.kind === 'op' && (t.text === '=~' || t.text === '!~')) {
      this.i++;
      const r = this.tok;
      if (r.kind !== 'regex') throw this.err(`expected a regular expression such as /timeout|refused/ after ${t.text}`);
      this.i++;
      return { kind: 'like', expr: left, pattern: String(r.value), regex: true, negated: t.text === '!~' };
    }
    let negated = false;
    if (this.isWord('not') && (this.isWord('like', this.tokens[this.i + 1]) || this.isWord('in', this.tokens[this.i + 1]))) {
      this.i++;
      negated = true;
    }
    if (this.acceptWord('like')) {
      const r = this.tok;
      if (r.kind !== 'string' && r.kind !== 'regex') throw this.err('expected a string ("timeout") or a regular expression (/time(d )?out/) after like');
      this.i++;
      return { kind: 'like', expr: left, pattern: String(r.value), regex: r.kind === 'regex', negated };
    }
    if (this.acceptWord('in')) {
      this.expectPunct('[', 'expected [ after in, as in level in ["error", "fatal"]');
      const values = this.list(() => this.literal('a value in the list'));
      this.expectPunct(']', 'expected ] to close the list');
      return { kind: 'in', expr: left, values, negated };
    }
    if (negated) throw this.err('expected like or in after not');
    return left;
  }
  private additive(): Expr {
    let left = this.multiplicative();
    while (this.tok.kind === 'op' && (this.tok.text === '+' || this.tok.text === '-')) {
      const op = this.tok.text as '+';
      this.operator(this.tok);
      this.i++;
      left = { kind: 'binary', op, left, right: this.multiplicative() };
    }
    return left;
  }
  private multiplicative(): Expr {
    let left = this.primary();
    while (this.tok.kind === 'op' && (this.tok.text === '*' || this.tok.text === '/')) {
      const op = this.tok.text as '*';
      this.operator(this.tok);
      this.i++;
      left = { kind: 'binary', op, left, right: this.primary() };
    }
    return left;
  }
  private literal(what: string): Literal {
    const t = this.tok;
    if (t.kind === 'string') return (this.i++, { kind: 'string', value: String(t.value) });
    if (t.kind === 'number') return (this.i++, { kind: 'number', value: Number(t.value) });
    if (t.kind === 'op' && t.text === '-' && this.tokens[this.i + 1]?.kind === 'number') {
      this.i += 2;
      return { kind: 'number', value: -Number(this.tokens[this.i - 1]!.value) };
    }
    if (this.isWord('true') || this.isWord('false')) return (this.i++, { kind: 'bool', value: t.text.toLowerCase() === 'true' });
    if (this.isWord('null')) return (this.i++, { kind: 'null' });
    throw this.err(`expected ${what} (a string in quotes, a number, true, false or null)`);
  }
  private primary(): Expr {
    const t = this.tok;
    if (this.acceptPunct('(')) {
      return this.nested(t, () => {
        const e = this.expr();
        this.expectPunct(')', 'expected ) to close (');
        return e;
      });
    }
    if (
      t.kind === 'string' ||
      t.kind === 'number' ||
      this.isWord('true') ||
      this.isWord('false') ||
      this.isWord('null') ||
      (t.kind === 'op' && t.text === '-')
    ) {
      return { kind: 'literal', value: this.literal('a value') };
    }
    if (t.kind === 'ident' && (t.value === 'quoted' || !RESERVED.has(t.text.toLowerCase()))) {
      this.i++;
      if (t.value !== 'quoted' && this.acceptPunct('(')) {
        const args: Expr[] = [];
        this.nested(t, () => {
          if (!this.acceptPunct(')')) {
            args.push(...this.list(() => this.expr()));
            this.expectPunct(')', `expected ) to close ${t.text}(`);
          }
        });
        return { kind: 'call', name: t.text.toLowerCase(), args, pos: t.pos };
      }
      return { kind: 'field', name: t.text, pos: t.pos };
    }
    throw this.err('expected a field name, a value, or (');
  }
}

/** Parses a pipeline; throws QuerySyntaxError (a 400) with the position and what was expected. */
export function parsePipeline(query: string): Stage[] {
  if (query.length > MAX_QUERY_LENGTH) throw new BadRequestError(`the query is longer than ${MAX_QUERY_LENGTH} characters`);
  return new Parser(query, lex(query)).parse();
}

/** Whether a pipeline has a stats stage, and the text of the stages before the first one. */
export function statsSplit(query: string): { hasStats: boolean; before: string } {
  const tokens = lex(query);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const atStageStart = i === 0 || (tokens[i - 1]!.kind === 'punct' && tokens[i - 1]!.text === '|');
    if (atStageStart && t.kind === 'ident' && t.value !== 'quoted' && t.text.toLowerCase() === 'stats') {
      return { hasStats: true, before: i === 0 ? '' : query.slice(0, tokens[i - 1]!.pos).trim() };
    }
  }
  return { hasStats: false, before: query.trim() };
}
