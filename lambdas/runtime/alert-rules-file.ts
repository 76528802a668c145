/** Reads the alert rules file (YAML or JSON) and validates it; errors name the file, rule and field. */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { validateRules, type AlertRule } from '../../shared/domain/alerts/rules.js';
import { BadRequestError } from '../../shared/domain/errors.js';

export const DEFAULT_RULE_FILES = ['alerts.yaml', 'alerts.yml', 'alerts.json'];

/** The rules file to use: the one named, or the first default present in the directory; undefined if none. */
export function findRulesFile(named: string | undefined, dir = '.'): string | undefined {
  if (named) return resolve(named);
  return DEFAULT_RULE_FILES.map((f) => resolve(dir, f)).find((p) => existsSync(p));
}

export function loadRulesFile(path: string): AlertRule[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the alert rules file ${path}: ${(err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new Error(`${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return validateRules(doc);
  } catch (err) {
    if (err instanceof BadRequestError) throw new Error(`${path}: ${err.message}`, { cause: err });
    throw err;
  }
}
