/**
 * Creates an API key for a tenant: prints the key once, and its hash as an entry for the keys secret
 * (SLUICE_KEYS_SECRET_ARN; format in shared/adapters/aws/key-secret.ts). Makes no AWS call itself.
 *
 *   npx tsx lambdas/runtime/create-api-key.ts --tenant acme --scopes ingest,query [--label "vector on web-1"]
 *       [--secret-id <arn>] [--update keys.json]
 *
 * With --update, the file (the secret's current value, saved with get-secret-value) gets the new entry
 * and is ready for put-secret-value; without it, the entry and the commands to add it are printed.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hashKey } from '../../shared/domain/api-keys.js';
import { SCOPES, type Scope } from '../../shared/domain/principal.js';
import { isValidTenant } from '../../shared/domain/tenant.js';
import { parseKeySecret, type KeySecretEntry } from '../../shared/adapters/aws/key-secret.js';

const USAGE = `usage: npx tsx lambdas/runtime/create-api-key.ts --tenant <tenant> --scopes <${SCOPES.join(',')}> [--label <text>] [--secret-id <arn>] [--update <file>]`;

/** A new key: a recognisable prefix (secret scanners, people) and 256 random bits in base64url. */
export function newApiKey(): string {
  return `sluice_${randomBytes(32).toString('base64url')}`;
}

export function entryFor(key: string, tenant: string, scopes: readonly Scope[], label: string | undefined, now = new Date()): KeySecretEntry {
  return { hash: hashKey(key), tenant, scopes: [...scopes], ...(label ? { label } : {}), created: now.toISOString().slice(0, 10) };
}

/** The secret's text with the entry added (the text is validated first). */
export function addEntry(secretText: string, entry: KeySecretEntry): string {
  const secret = secretText.trim() === '' ? { keys: [] } : parseKeySecret(secretText);
  const next = `${JSON.stringify({ keys: [...secret.keys, entry] }, null, 2)}\n`;
  parseKeySecret(next); // the result must be what the authorizer accepts (no duplicate hash, valid entry)
  return next;
}

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function main(): void {
  const { values } = parseArgs({
    options: {
      tenant: { type: 'string' },
      scopes: { type: 'string' },
      label: { type: 'string' },
      'secret-id': { type: 'string' },
      update: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const tenant = values.tenant ?? fail('--tenant is required');
  if (!isValidTenant(tenant)) fail(`--tenant must be 1-63 characters of a-z, 0-9, '-', '_' (starting with a letter or digit)`);
  const scopes = (values.scopes ?? fail('--scopes is required'))
    .split(/[,+ ]/)
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of scopes) if (!(SCOPES as readonly string[]).includes(s)) fail(`unknown scope ${JSON.stringify(s)}: use ${SCOPES.join(', ')}`);
  if (scopes.length === 0) fail('--scopes needs at least one scope');
  if (values.label !== undefined && values.label.length > 200) fail('--label is at most 200 characters');

  const key = newApiKey();
  const entry = entryFor(key, tenant, [...new Set(scopes)] as Scope[], values.label);
  const secret = values['secret-id'] ?? '"$SLUICE_KEYS_SECRET_ARN"';
  const out: string[] = [
    `API key for tenant ${tenant} (scopes: ${entry.scopes.join(', ')}; key id ${entry.hash.slice(0, 8)}).`,
    'It is shown only this once; Sluice keeps only its hash:',
    '',
    `  ${key}`,
    '',
  ];
  if (values.update) {
    let current: string;
    try {
      current = readFileSync(values.update, 'utf8');
    } catch (err) {
      fail(`cannot read ${values.update}: ${(err as Error).message}`);
    }
    try {
      writeFileSync(values.update, addEntry(current, entry));
    } catch (err) {
      fail(`${values.update}: ${(err as Error).message}`);
    }
    out.push(
      `${values.update} now lists its hash. Store it as the secret's new value, then remove the file:`,
      '',
      `  aws secretsmanager put-secret-value --secret-id ${secret} --secret-string file://${values.update}`,
      `  rm ${values.update}`,
    );
  } else {
    out.push(
      'Its entry for the keys secret (a hash, not the key):',
      '',
      `  ${JSON.stringify(entry)}`,
      '',
      'Add it to the secret (put-secret-value replaces the whole value, so start from the current one):',
      '',
      `  aws secretsmanager get-secret-value --secret-id ${secret} --query SecretString --output text > keys.json`,
      `  # add the entry to "keys" in keys.json, or run this script again with --update keys.json`,
      `  aws secretsmanager put-secret-value --secret-id ${secret} --secret-string file://keys.json`,
      `  rm keys.json`,
    );
  }
  out.push('', 'Requests then send: Authorization: Bearer <key>. The key works within 5 minutes (the authorizer caches the secret).');
  process.stdout.write(`${out.join('\n')}\n`);
}

// Run as a script (npx tsx …), not when a test imports the helpers above.
if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) main();
