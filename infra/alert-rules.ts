/**
 * The alert rules, read and validated at synth: a bad rules file fails `cdk synth` with every problem named
 * by rule and field, before anything is deployed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { validateRules, type AlertRule } from '../shared/domain/alerts/rules.js';

export function loadAlertRules(projectRoot: string, file: string): { path: string; rules: AlertRule[] } | undefined {
  const path = resolve(projectRoot, file);
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8');
  let doc: unknown;
  try {
    doc = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new Error(`${file} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return { path, rules: validateRules(doc) };
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
  }
}
