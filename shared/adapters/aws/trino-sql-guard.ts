/**
 * Checks SQL with a Trino grammar (dt-sql-parser's TrinoSQL, an ANTLR port of Trino's own SqlBase.g4)
 * before it reaches Athena, and prepares it to run inside the engine's `WITH logs AS (…)` scope.
 *
 * User SQL (`trusted: false`) must be one SELECT that reads only `logs` or CTEs it defines in scope: no
 * other tables, no schema- or catalog-qualified names, no table functions, no `?` parameters, no inline
 * functions, no UNLOAD/INSERT/DDL, one statement. SQL compiled by Sluice (`trusted: true`) must still be
 * one SELECT; its `?` placeholders are counted so they can be matched with their values.
 *
 * Only the Trino parser is imported (not the package index, which loads every dialect: ~1 s, 20 MB).
 */
import { TrinoSQL } from 'dt-sql-parser/dist/parser/trino/index.js';
import {
  BackQuotedIdentifierContext,
  FunctionNameContext,
  ParameterContext,
  QueryStatementContext,
  QuotedIdentifierContext,
  RowCountContext,
  StatementDefaultContext,
  TableFunctionInvocationContext,
  TableRefContext,
  ViewRefContext,
  type IdentifierContext,
  type ProgramContext,
  type QueryNoWithContext,
} from 'dt-sql-parser/dist/lib/trino/TrinoSqlParser.js';
import { QueryError } from '../../domain/errors.js';
import { TABLE_NAME } from '../../domain/schema.js';

const parser = new TrinoSQL();

/**
 * Statements a person might send instead of a query, named in the refusal. Some are Athena's own (UNLOAD,
 * MSCK, VACUUM, USING EXTERNAL FUNCTION) or DuckDB's (SUMMARIZE, PIVOT, PRAGMA, … as someone who queries
 * locally too might send) and would otherwise be reported as syntax errors.
 */
const OTHER_STATEMENTS = new Set([
  'ALTER',
  'ANALYZE',
  'ATTACH',
  'CALL',
  'COMMENT',
  'COMMIT',
  'COPY',
  'CREATE',
  'DEALLOCATE',
  'DELETE',
  'DENY',
  'DESC',
  'DESCRIBE',
  'DETACH',
  'DROP',
  'EXECUTE',
  'EXPLAIN',
  'GRANT',
  'INSERT',
  'INSTALL',
  'LOAD',
  'MERGE',
  'MSCK',
  'OPTIMIZE',
  'PIVOT',
  'PRAGMA',
  'PREPARE',
  'REFRESH',
  'RESET',
  'REVOKE',
  'ROLLBACK',
  'SET',
  'SHOW',
  'START',
  'SUMMARIZE',
  'TRUNCATE',
  'UNLOAD',
  'UNPIVOT',
  'UPDATE',
  'USE',
  'USING',
  'VACUUM',
]);

interface ParseOutcome {
  tree: ProgramContext;
  errors: { line: number; column: number; message: string }[];
}

function parse(sql: string): ParseOutcome {
  const errors: ParseOutcome['errors'] = [];
  const tree = parser.parse(sql, (e) => errors.push({ line: e.startLine, column: e.startColumn, message: e.message }));
  return { tree, errors };
}

/** Does this parse as Trino SQL? (The compiler's tests check generated SQL with it.) */
export function parseTrino(sql: string): { ok: true } | { ok: false; errors: string[] } {
  const { errors } = parse(sql);
  return errors.length === 0 ? { ok: true } : { ok: false, errors: errors.map((e) => `line ${e.line}:${e.column}: ${e.message}`) };
}

/** A statement ready to follow the engine's `WITH logs AS (…)`. */
export interface PreparedSelect {
  /** the statement opens with WITH RECURSIVE (the engine's WITH must say so too) */
  recursive: boolean;
  /** the statement has its own CTEs: the engine joins its WITH to them with a comma */
  hasCtes: boolean;
  /**
   * The statement text, from the start of the input, with its WITH keyword blanked out (so its CTEs
   * continue the engine's list) and its outermost LIMIT at most `limit`. Blanking keeps every line and
   * column where the sender wrote it, so Athena's error positions can be mapped back.
   */
  text: string;
  /** the `?` placeholders in the text */
  placeholders: number;
}

function identifierName(ctx: IdentifierContext): string {
  const raw = ctx.getText();
  if (ctx instanceof QuotedIdentifierContext) return raw.slice(1, -1).replaceAll('""', '"');
  if (ctx instanceof BackQuotedIdentifierContext) return raw.slice(1, -1).replaceAll('``', '`');
  return raw;
}

type Node = { children?: unknown[] | null };

function children(node: unknown): unknown[] {
  return (node as Node).children ?? [];
}

/**
 * How deep parentheses and brackets may nest in SQL this guard checks. The grammar's check time grows
 * steeply with depth (1,000 levels: 22 s; 3,000 nested conditions: minutes) before the stack overflows; SQL
 * a person writes, and what the compiler writes for the pipeline language (at most 32 levels), stay far
 * below it.
 */
export const MAX_SQL_NESTING = 64;

/** The first significant token's text, upper-cased, whether anything follows a ';', and the deepest nesting. */
function tokenShape(sql: string): { first: string | undefined; afterSemicolon: boolean; depth: number } {
  // The lexer alone (getAllTokens() would parse, and log errors to the console).
  const tokens = parser
    .createLexer(sql, () => {})
    .getAllTokens()
    .filter((t) => t.channel === 0);
  const semicolon = tokens.findIndex((t) => t.text === ';');
  let depth = 0;
  let deepest = 0;
  for (const t of tokens) {
    if (t.text === '(' || t.text === '[') deepest = Math.max(deepest, ++depth);
    else if (t.text === ')' || t.text === ']') depth--;
  }
  return {
    first: tokens[0]?.text?.toUpperCase(),
    afterSemicolon: semicolon >= 0 && semicolon < tokens.length - 1,
    depth: deepest,
  };
}

/**
 * Checks one statement and prepares it for the engine's scope. Throws QueryError with a reason a person
 * can act on.
 */
export function prepareSelect(sql: string, { trusted, limit }: { trusted: boolean; limit: number }): PreparedSelect {
  const only = `only a single SELECT over ${TABLE_NAME} is allowed`;
  const shape = tokenShape(sql);
  if (shape.first === undefined) throw new QueryError(`the SQL is empty: send a SELECT over ${TABLE_NAME}`);
  if (OTHER_STATEMENTS.has(shape.first)) {
    const kind = shape.first === 'USING' ? 'USING EXTERNAL FUNCTION' : shape.first;
    throw new QueryError(`${only} (${kind} statements are refused)`);
  }
  if (shape.afterSemicolon) throw new QueryError(`${only}; send one statement (found more after ';')`);
  if (shape.depth > MAX_SQL_NESTING) {
    throw new QueryError(`the SQL nests parentheses ${shape.depth} levels deep; at most ${MAX_SQL_NESTING} are checked: write it flatter (a CTE per step)`);
  }
  try {
    return check(sql, trusted, limit, only);
  } catch (err) {
    // A long flat chain (thousands of ANDs) can still overflow the grammar's recursion: refused, not a 500.
    if (err instanceof RangeError)
      throw new QueryError('the SQL is too long or too deeply nested to check: write it shorter (a CTE per step, IN (…) for many values)', { cause: err });
    throw err;
  }
}

function check(sql: string, trusted: boolean, limit: number, only: string): PreparedSelect {
  const { tree, errors } = parse(sql);
  if (errors.length > 0) {
    const e = errors[0]!;
    throw new QueryError(`SQL syntax error at line ${e.line}, column ${e.column}: ${e.message}`);
  }
  const statements = tree.statements();
  if (statements.length !== 1) throw new QueryError(`${only}; send exactly one statement (got ${statements.length})`);
  const statement = statements[0]!.singleStatement().statement();
  if (!(statement instanceof StatementDefaultContext)) throw new QueryError(`${only}; this is not a query`);
  const root = statement.rootQuery();
  if (root.withFunction()) throw new QueryError('inline functions (WITH FUNCTION) are not allowed');
  const query = root.query();
  if (!(query instanceof QueryStatementContext)) throw new QueryError(only);

  let placeholders = 0;
  const refuse = (message: string) => {
    throw new QueryError(message);
  };

  // Walks the tree with the CTE names in scope at each point, so a name is accepted only where Trino
  // would resolve it to a CTE rather than to a table in the database.
  const visit = (node: unknown, scope: ReadonlySet<string>): void => {
    if (node instanceof QueryStatementContext) {
      const withCtx = node.with();
      const inner = new Set(scope);
      if (withCtx) {
        const named = withCtx.namedQuery();
        const names = named.map((n) => identifierName(n.identifier()).toLowerCase());
        for (const name of names) {
          // `logs` is the engine's: a CTE of that name would shadow or collide with the tenant's scope.
          if (name === TABLE_NAME) refuse(`a CTE may not be named ${TABLE_NAME}; choose another name`);
        }
        const recursive = withCtx.KW_RECURSIVE() !== null;
        if (recursive) for (const name of names) inner.add(name);
        named.forEach((n, i) => {
          visit(n.query(), inner);
          inner.add(names[i]!);
        });
      }
      visit(node.queryNoWith(), inner);
      return;
    }
    if (node instanceof TableRefContext || node instanceof ViewRefContext) {
      const parts = node.identifier();
      const shown = node.getText();
      if (parts.length !== 1) refuse(`unknown table ${shown}: queries read the table ${TABLE_NAME} (schema- and catalog-qualified names are not allowed)`);
      const name = identifierName(parts[0]!).toLowerCase();
      if (name !== TABLE_NAME && !scope.has(name)) refuse(`unknown table ${shown}: queries read the table ${TABLE_NAME} or CTEs defined in the query`);
      return;
    }
    if (node instanceof TableFunctionInvocationContext) refuse(`table functions are not allowed: queries read the table ${TABLE_NAME}`);
    if (node instanceof FunctionNameContext && node.qualifiedName().identifier().length > 1) {
      refuse(`function ${node.getText()} is not allowed: call functions by their plain name`);
    }
    if (node instanceof ParameterContext || (node instanceof RowCountContext && node.QUESTION_MARK() !== null)) {
      if (!trusted) refuse('query parameters (?) are not supported in sql; write the values inline');
      placeholders++;
    }
    for (const child of children(node)) visit(child, scope);
  };
  visit(query, new Set());

  return { ...render(sql, query, limit), placeholders };
}

interface Edit {
  start: number;
  /** exclusive */
  end: number;
  text: string;
}

function render(sql: string, query: QueryStatementContext, limit: number): Omit<PreparedSelect, 'placeholders'> {
  const edits: Edit[] = [];
  const withCtx = query.with();
  if (withCtx) {
    // Blank "WITH [RECURSIVE]" with spaces of the same length: the engine's WITH opens the list instead.
    const from = withCtx.KW_WITH().symbol.start;
    const to = (withCtx.KW_RECURSIVE() ?? withCtx.KW_WITH()).symbol.stop + 1;
    edits.push({ start: from, end: to, text: sql.slice(from, to).replace(/[^\n]/g, ' ') });
  }
  const body = query.queryNoWith();
  const end = body.stop!.stop + 1;
  edits.push(...limitEdits(body, limit, end));
  let text = sql.slice(0, end);
  for (const e of edits.sort((a, b) => b.start - a.start)) text = text.slice(0, e.start) + e.text + text.slice(e.end);
  return { recursive: withCtx?.KW_RECURSIVE() != null, hasCtes: withCtx !== null, text };
}

/**
 * Caps the outermost row count at `limit`. Wrapping the statement in `SELECT * FROM (…) LIMIT n` would not
 * do: Trino drops an ORDER BY inside a subquery that has no LIMIT of its own, so the rows would come back
 * unordered (and "top 10" would be any 10).
 */
function limitEdits(body: QueryNoWithContext, limit: number, end: number): Edit[] {
  const count = (text: string | undefined) => {
    const n = Number((text ?? '').replaceAll('_', ''));
    return Number.isSafeInteger(n) ? Math.min(n, limit) : limit;
  };
  const limitCtx = body.limitRowCount();
  if (limitCtx) {
    const rowCount = limitCtx.rowCount();
    if (limitCtx.KW_ALL()) return [{ start: limitCtx.start!.start, end: limitCtx.stop!.stop + 1, text: String(limit) }];
    if (rowCount?.QUESTION_MARK())
      throw new QueryError('LIMIT ? is not supported on Athena (parameters are allowed only in WHERE); write the row count inline');
    return [{ start: limitCtx.start!.start, end: limitCtx.stop!.stop + 1, text: String(count(rowCount?.INTEGER_VALUE()?.getText())) }];
  }
  const fetch = body.KW_FETCH();
  if (fetch) {
    // FETCH FIRST n ROWS ONLY | WITH TIES → LIMIT min(n, limit): ties beyond the cap are dropped.
    const rows = body._fetchFirst;
    if (rows?.QUESTION_MARK()) throw new QueryError('FETCH FIRST ? is not supported on Athena; write the row count inline');
    return [{ start: fetch.symbol.start, end, text: `LIMIT ${rows ? count(rows.INTEGER_VALUE()?.getText()) : 1}` }];
  }
  return [{ start: end, end, text: `\nLIMIT ${limit}` }];
}
