/**
 * Dependencies point one way (STYLE.md): domain ← ports ← services ← adapters; lambdas wire them; infra
 * takes only shared constants. process.env is read only by the one config reader.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function files(dir: string): string[] {
  const abs = join(ROOT, dir);
  try {
    statSync(abs);
  } catch {
    return [];
  }
  return readdirSync(abs, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

/** Package names a file imports (static and dynamic), e.g. '@aws-sdk/client-s3'. */
function packageImports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:(?:import|export)[^'"]*?from\s+|import\s*\(\s*|^import\s+)['"]([^.'"][^'"]*)['"]/gm)) out.push(m[1]!);
  return out;
}

/**
 * Every project file reachable from an entry through relative imports ('.js' specifiers name '.ts' files):
 * static and dynamic ones (esbuild bundles both), or only the static ones (what a cold start evaluates).
 */
function reachable(entry: string, { dynamic = true } = {}): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const target of localImports(file, { dynamic })) visit(target.replace(/\.js$/, '.ts'));
  };
  visit(entry);
  return [...seen];
}

/** Relative imports of a file: `from '…'`, and with `dynamic` also `import('…')` (lazily loaded modules). */
function localImports(file: string, { dynamic = true } = {}): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  // `from '…'` imports and re-exports, side-effect imports (`import '…'`), and with `dynamic` `import('…')`.
  const pattern = dynamic
    ? /(?:(?:import|export)[^'"]*?from\s+|import\s*\(\s*|^import\s+)['"](\.[^'"]+)['"]/gm
    : /(?:(?:import|export)[^'"]*?from\s+|^import\s+)['"](\.[^'"]+)['"]/gm;
  for (const m of text.matchAll(pattern)) {
    out.push(relative(ROOT, resolve(ROOT, dirname(file), m[1]!)));
  }
  return out;
}

/** The handler factories (makeXHandler) that the composition roots wire; never the `.handler.ts` entries. */
const HANDLER_FACTORIES = ['lambdas/api/', 'lambdas/alerts/', 'lambdas/compactor/', 'lambdas/writer/'];

const RULES: { from: string; mayImport: string[] }[] = [
  { from: 'shared/domain/', mayImport: ['shared/domain/'] },
  { from: 'shared/ports/', mayImport: ['shared/domain/', 'shared/ports/'] },
  { from: 'shared/services/', mayImport: ['shared/domain/', 'shared/ports/', 'shared/services/'] },
  { from: 'shared/adapters/', mayImport: ['shared/domain/', 'shared/ports/', 'shared/adapters/'] },
  // Each environment's adapters stand alone: AWS code never carries local-mode code, nor the reverse.
  { from: 'shared/adapters/aws/', mayImport: ['shared/domain/', 'shared/ports/', 'shared/adapters/aws/'] },
  { from: 'shared/adapters/local/', mayImport: ['shared/domain/', 'shared/ports/', 'shared/adapters/local/'] },
  { from: 'shared/adapters/http/', mayImport: ['shared/domain/', 'shared/ports/', 'shared/adapters/http/'] },
  { from: 'shared/config/', mayImport: ['shared/domain/', 'shared/config/'] },
  { from: 'lambdas/api/', mayImport: ['shared/domain/', 'shared/ports/', 'shared/services/', 'lambdas/runtime/api-gateway', 'lambdas/api/'] },
  { from: 'lambdas/alerts/', mayImport: ['shared/domain/', 'shared/ports/', 'shared/services/', 'lambdas/alerts/'] },
  { from: 'lambdas/compactor/', mayImport: ['shared/domain/', 'shared/ports/', 'shared/services/', 'lambdas/compactor/'] },
  { from: 'lambdas/writer/', mayImport: ['shared/domain/', 'shared/ports/', 'shared/services/', 'lambdas/runtime/api-gateway', 'lambdas/writer/'] },
  // The composition roots build adapters and hand them to the handler factories (never to an entry file).
  {
    from: 'lambdas/runtime/',
    mayImport: ['shared/', 'lambdas/runtime/', ...HANDLER_FACTORIES],
  },
  // The AWS root never reaches local-mode adapters (they would end up in the Lambda bundles).
  {
    from: 'lambdas/runtime/aws-deps/',
    mayImport: [
      'shared/domain/',
      'shared/ports/',
      'shared/services/',
      'shared/config/',
      'shared/adapters/aws/',
      'shared/adapters/http/',
      'shared/adapters/log-notifier',
      'lambdas/runtime/',
      ...HANDLER_FACTORIES,
    ],
  },
  // Local mode: one process running the same handler factories with the local composition root.
  {
    from: 'lambdas/local/',
    mayImport: [
      'shared/',
      'lambdas/local/',
      'lambdas/runtime/local-deps',
      'lambdas/runtime/api-gateway',
      'lambdas/runtime/alert-rules-file',
      'lambdas/runtime/local-alerts',
      ...HANDLER_FACTORIES,
    ],
  },
  { from: 'infra/', mayImport: ['shared/domain/', 'shared/config/', 'infra/'] },
  // The command-line client: the HTTP API for ingest and query, domain code for `normalize` (what the
  // server would make of a file, offline), the keys secret's format for `keys create` (pure), and the one
  // local composition it needs (alert rules over the data directory) from the composition root.
  {
    from: 'cli/',
    mayImport: ['shared/domain/', 'shared/config/', 'shared/adapters/aws/key-secret.js', 'lambdas/runtime/local-alerts.js', 'cli/'],
  },
];

describe('architecture', () => {
  it('sees the imports it checks (the checker itself works)', () => {
    expect(localImports('lambdas/runtime/local-deps.ts')).toContain('shared/adapters/local/spool-queue.js');
    expect(files('shared/domain').length).toBeGreaterThan(5);
    expect(reachable('lambdas/api/query.handler.ts')).toContain('shared/adapters/aws/athena-query-engine.ts');
    expect(reachable('lambdas/runtime/local-deps.ts').flatMap(packageImports)).toContain('@duckdb/node-api');
    // The Trino guard is a lazy import of the Athena engine: reached, but not on the static path.
    expect(reachable('lambdas/api/query.handler.ts')).toContain('shared/adapters/aws/trino-sql-guard.ts');
    expect(reachable('lambdas/api/query.handler.ts', { dynamic: false })).not.toContain('shared/adapters/aws/trino-sql-guard.ts');
  });

  for (const rule of RULES) {
    it(`${rule.from} imports only ${rule.mayImport.join(', ')}`, () => {
      const violations = files(rule.from).flatMap((f) =>
        localImports(f)
          // A Lambda entry (x.handler.ts) is wiring: it also takes its deps from the AWS composition root.
          .filter((target) => !(f.endsWith('.handler.ts') && target.startsWith('lambdas/runtime/aws-deps/')))
          .filter((target) => !rule.mayImport.some((allowed) => target.startsWith(allowed)))
          .map((target) => `${f} → ${target}`),
      );
      expect(violations).toEqual([]);
    });
  }

  it('has a rule for every folder of runtime code', () => {
    const folders = [...new Set(['shared', 'lambdas', 'infra', 'cli'].flatMap(files).map((f) => `${dirname(f)}/`))];
    expect(folders.length).toBeGreaterThan(15);
    expect(folders.filter((d) => !RULES.some((r) => d.startsWith(r.from)))).toEqual([]);
  });

  it('composition roots wire handler factories, never Lambda entry files', () => {
    const offenders = [...files('lambdas/runtime'), ...files('lambdas/local')].flatMap((f) =>
      localImports(f)
        .filter((t) => t.endsWith('.handler.js') || t.endsWith('.handler.ts'))
        .map((t) => `${f} → ${t}`),
    );
    expect(offenders).toEqual([]);
  });

  it('the CLI loads local-mode adapters (DuckDB) only lazily, for the commands that use them', () => {
    const eager = reachable('cli/sluice.ts', { dynamic: false });
    expect(reachable('cli/sluice.ts')).toContain('lambdas/runtime/local-alerts.ts');
    expect(eager.filter((f) => f.startsWith('shared/adapters/local/') || f.startsWith('lambdas/'))).toEqual([]);
    expect(eager.flatMap(packageImports).filter((p) => p.startsWith('@duckdb/'))).toEqual([]);
  });

  it('imports the AWS SDK and Powertools only in shared/adapters/aws/ and lambdas/runtime/aws-deps/', () => {
    const offenders = [...files('shared'), ...files('lambdas'), ...files('cli')]
      .filter((f) => !f.startsWith(join('shared', 'adapters', 'aws')) && !f.startsWith(join('lambdas', 'runtime', 'aws-deps')))
      .flatMap((f) =>
        packageImports(f)
          .filter((p) => /^(@aws-sdk|@smithy|@aws-lambda-powertools)\//.test(p))
          .map((p) => `${f} → ${p}`),
      );
    expect(offenders).toEqual([]);
  });

  it('Lambda entries never reach local-mode code or DuckDB', () => {
    const entries = files('lambdas').filter((f) => f.endsWith('.handler.ts'));
    expect(entries.length).toBeGreaterThanOrEqual(4);
    const offenders = entries.flatMap((entry) =>
      reachable(entry).flatMap((f) => [
        ...(f.startsWith('shared/adapters/local/') || f.startsWith('lambdas/local/') ? [`${entry} reaches ${f}`] : []),
        ...packageImports(f)
          .filter((p) => p.startsWith('@duckdb/'))
          .map((p) => `${entry} reaches ${p} through ${f}`),
      ]),
    );
    expect(offenders).toEqual([]);
  });

  it("each Lambda entry reaches only its own role's heavy dependencies (bundle size, cold start)", () => {
    const HEAVY = /^(dt-sql-parser|apache-arrow|parquet-wasm|@aws-sdk\/client-athena)(?:\/|$)/;
    const heavy = (entry: string) =>
      [
        ...new Set(
          reachable(entry)
            .flatMap(packageImports)
            .flatMap((p) => HEAVY.exec(p)?.[1] ?? []),
        ),
      ].sort();
    expect(heavy('lambdas/api/ingest.handler.ts')).toEqual([]);
    expect(heavy('lambdas/api/authorizer.handler.ts')).toEqual([]);
    expect(heavy('lambdas/writer/batch-writer.handler.ts')).toEqual(['apache-arrow', 'parquet-wasm']);
    expect(heavy('lambdas/alerts/evaluate.handler.ts')).toEqual(['@aws-sdk/client-athena', 'dt-sql-parser']);
    expect(heavy('lambdas/api/query.handler.ts')).toEqual(['@aws-sdk/client-athena', 'dt-sql-parser']);
    expect(heavy('lambdas/compactor/compact.handler.ts')).toEqual(['apache-arrow', 'parquet-wasm']);
  });

  it('loads the Trino grammar (dt-sql-parser) only through a dynamic import, never at cold start', () => {
    // trino-sql-guard.ts is most of the query and alert bundles and builds a large ATN when evaluated; the
    // Athena engine imports it on the first query start. A static import would put it back in cold init.
    const entries = files('lambdas').filter((f) => f.endsWith('.handler.ts'));
    const offenders = entries.flatMap((entry) =>
      reachable(entry, { dynamic: false }).flatMap((f) =>
        packageImports(f)
          .filter((p) => /^dt-sql-parser(?:\/|$)/.test(p))
          .map((p) => `${entry} statically reaches ${p} through ${f}`),
      ),
    );
    expect(offenders).toEqual([]);
  });

  it('imports zod as a namespace (import * as z), so a bundle takes only the schemas it uses', () => {
    // `import { z } from 'zod'` hands esbuild the whole namespace object: every locale, JSON Schema
    // conversion and the rest of zod, ~360 KB more in each Lambda bundle.
    const offenders = [...files('shared'), ...files('lambdas'), ...files('infra'), ...files('cli')].filter((f) =>
      /import\s*\{[^}]*\bz\b[^}]*\}\s*from\s*['"]zod(?:\/[^'"]*)?['"]/.test(readFileSync(join(ROOT, f), 'utf8')),
    );
    expect(offenders).toEqual([]);
  });

  it('reads process.env only in shared/config/env.ts', () => {
    const offenders = [...files('shared'), ...files('lambdas'), ...files('infra'), ...files('cli')].filter(
      (f) => f !== join('shared', 'config', 'env.ts') && /process\.env/.test(readFileSync(join(ROOT, f), 'utf8')),
    );
    expect(offenders).toEqual([]);
  });

  it('never imports test fixtures or helpers from production code', () => {
    const offenders = [...files('shared'), ...files('lambdas'), ...files('infra'), ...files('cli')].filter((f) =>
      localImports(f).some((t) => t.startsWith('test/')),
    );
    expect(offenders).toEqual([]);
  });
});
