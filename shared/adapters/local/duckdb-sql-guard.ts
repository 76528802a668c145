/**
 * Checks user SQL with DuckDB's own parser (json_serialize_sql) before it runs: exactly one SELECT, reading
 * only the table `logs` (or CTEs it defines), no table functions (read_csv, glob, …), no schema-qualified
 * names (information_schema, other catalogs), no parameters and no functions that reveal configuration.
 * Returns the statement re-rendered from the parse tree, so comments and trailing text cannot change what
 * the wrapper around it means.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { QueryError } from '../../domain/errors.js';
import { TABLE_NAME } from '../../domain/schema.js';
import { textOf } from '../../domain/text.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
// current_query() would show the statement Sluice wraps around the query, with the server's file paths.
const DENIED_FUNCTIONS = new Set(['current_setting', 'current_query', 'getenv', 'read_text', 'read_blob', 'glob', 'load', 'install']);

interface AstNode {
  [key: string]: unknown;
}

/** DuckDB parses these as a SELECT over a SHOW_REF (SHOW <table> is DESCRIBE's other spelling). */
const SHOW_STATEMENTS: Record<string, string> = { SUMMARY: 'SUMMARIZE', DESCRIBE: 'DESCRIBE and SHOW <table>' };

/** The statement's first keyword, past whitespace and comments, to name a refused statement. */
function firstKeyword(sql: string): string | undefined {
  const rest = sql.replace(/^(?:\s|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/, '');
  return /^[A-Za-z]+/.exec(rest)?.[0]?.toUpperCase();
}

/**
 * DuckDB writes a DOUBLE literal out of range (`SELECT 1e400`) as a bare Infinity, which is not JSON (and which
 * json_deserialize_sql cannot read back either): such SQL is refused with a reason, never a 500.
 */
function parseSerialized(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    if (/[:[,]-?(?:Infinity|NaN)[,}\]]/.test(text)) {
      throw new QueryError("a number in the SQL is out of DOUBLE's range (such as 1e400): write a smaller one, or 'infinity'::DOUBLE");
    }
    throw new QueryError(`the SQL could not be checked (${(err as Error).message})`);
  }
}

function walk(node: unknown, visit: (n: AstNode) => void): void {
  if (Array.isArray(node)) {
    for (const n of node) walk(n, visit);
  } else if (node !== null && typeof node === 'object') {
    visit(node as AstNode);
    for (const v of Object.values(node)) walk(v, visit);
  }
}

export async function checkSelect(conn: DuckDBConnection, sql: string, opts: { allowParams?: boolean } = {}): Promise<string> {
  const reader = await conn.runAndReadAll('SELECT json_serialize_sql($sql::VARCHAR)', { sql });
  const parsed = parseSerialized(String(reader.getRows()[0]![0])) as {
    error: boolean;
    error_type?: string;
    error_message?: string;
    statements?: { node: unknown }[];
  };
  if (parsed.error) {
    if (parsed.error_type === 'not implemented') {
      // DuckDB serializes only SELECTs: EXPLAIN, PIVOT, CALL, COPY, ATTACH, … end here.
      const kind = firstKeyword(sql);
      throw new QueryError(`only a single SELECT over ${TABLE_NAME} is allowed${kind ? ` (${kind} statements are refused)` : ''}`);
    }
    throw new QueryError(`SQL syntax error: ${parsed.error_message ?? 'unknown'}`);
  }
  const statements = parsed.statements ?? [];
  if (statements.length !== 1) throw new QueryError(`send exactly one SELECT statement (got ${statements.length})`);

  const cteNames = new Set<string>([TABLE_NAME]);
  walk(statements, (n) => {
    const map = (n['cte_map'] as { map?: { key: string }[] } | undefined)?.map;
    if (map) {
      for (const e of map) {
        // CTE names must be plain identifiers: a CTE named like a file path would let an outer reference
        // to that "name" fall through to DuckDB's file reader.
        if (!IDENTIFIER.test(e.key)) throw new QueryError(`CTE name ${JSON.stringify(e.key)} must be a plain identifier (letters, digits, _)`);
        cteNames.add(e.key.toLowerCase());
      }
    }
  });
  walk(statements, (n) => {
    if (n['type'] === 'BASE_TABLE') {
      const raw = textOf(n['table_name'] ?? '');
      const name = raw.toLowerCase();
      if (n['schema_name'] || n['catalog_name'] || !IDENTIFIER.test(raw) || !cteNames.has(name)) {
        throw new QueryError(`unknown table ${JSON.stringify(raw)}: queries read the table ${TABLE_NAME}`);
      }
    } else if (n['type'] === 'SHOW_REF') {
      // SUMMARIZE, DESCRIBE, SHOW: they parse as a SELECT, but read the catalog (or profile a table), not rows.
      const kind = SHOW_STATEMENTS[String(n['show_type'])] ?? 'SHOW';
      throw new QueryError(`only a single SELECT over ${TABLE_NAME} is allowed (${kind} statements are refused)`);
    } else if (n['type'] === 'TABLE_FUNCTION') {
      throw new QueryError(`table functions are not allowed: queries read the table ${TABLE_NAME}`);
    } else if (n['class'] === 'PARAMETER' && !opts.allowParams) {
      throw new QueryError('query parameters ($1, ?) are not supported in sql; write the values inline');
    } else if (n['class'] === 'FUNCTION' && DENIED_FUNCTIONS.has(String(n['function_name']).toLowerCase())) {
      throw new QueryError(`function ${String(n['function_name'])} is not allowed`);
    }
  });
  // A tree DuckDB serialized but cannot render back is refused like any other SQL it cannot check.
  const rendered = await conn.runAndReadAll('SELECT json_deserialize_sql(json_serialize_sql($sql::VARCHAR))', { sql }).catch((err: unknown) => {
    throw new QueryError(`the SQL could not be checked (${(err as Error).message})`, { cause: err });
  });
  return String(rendered.getRows()[0]![0]);
}
