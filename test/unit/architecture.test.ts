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

function localImports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]/g)) {
    out.push(relative(ROOT, resolve(ROOT, dirname(file), m[1]!)));
  }
  return out;
}

const RULES: { from: string; mayImport: string[] }[] = [
  { from: 'shared/domain/', mayImport: ['shared/domain/'] },
  { from: 'shared/ports/', mayImport: ['shared/domain/', 'shared/ports/'] },
  { from: 'shared/services/', mayImport: ['shared/domain/', 'shared/ports/', 'shared/services/'] },
  { from: 'shared/adapters/', mayImport: ['shared/domain/', 'shared/ports/', 'shared/adapters/'] },
  { from: 'shared/config/', mayImport: ['shared/domain/', 'shared/config/'] },
  { from: 'lambdas/api/', mayImport: ['shared/domain/', 'shared/ports/', 'shared/services/', 'lambdas/runtime/http', 'lambdas/api/'] },
  { from: 'lambdas/alerts/', mayImport: ['shared/domain/', 'shared/ports/', 'shared/services/', 'lambdas/alerts/'] },
  { from: 'lambdas/writer/', mayImport: ['shared/domain/', 'shared/ports/', 'shared/services/', 'lambdas/runtime/http', 'lambdas/writer/'] },
  { from: 'infra/', mayImport: ['shared/domain/', 'shared/config/', 'infra/'] },
];

describe('architecture', () => {
  it('sees the imports it checks (the checker itself works)', () => {
    expect(localImports('lambdas/runtime/local-deps.ts')).toContain('shared/adapters/local/spool-queue.js');
    expect(files('shared/domain').length).toBeGreaterThan(5);
  });

  for (const rule of RULES) {
    it(`${rule.from} imports only ${rule.mayImport.join(', ')}`, () => {
      const violations = files(rule.from).flatMap((f) =>
        localImports(f)
          .filter((target) => !rule.mayImport.some((allowed) => target.startsWith(allowed)))
          .map((target) => `${f} → ${target}`),
      );
      expect(violations).toEqual([]);
    });
  }

  it('reads process.env only in shared/config/env.ts', () => {
    const offenders = [...files('shared'), ...files('lambdas'), ...files('infra')].filter(
      (f) => f !== join('shared', 'config', 'env.ts') && /process\.env/.test(readFileSync(join(ROOT, f), 'utf8')),
    );
    expect(offenders).toEqual([]);
  });

  it('never imports test fixtures or helpers from production code', () => {
    const offenders = [...files('shared'), ...files('lambdas'), ...files('infra')].filter((f) => localImports(f).some((t) => t.startsWith('test/')));
    expect(offenders).toEqual([]);
  });
});
