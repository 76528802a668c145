/**
 * Creates an API key for a tenant: prints the key once, and its hash as an entry for the keys secret
 * (SLUICE_KEYS_SECRET_ARN; format in shared/adapters/aws/key-secret.ts). Makes no AWS call itself.
 *
 *   npx sluice keys create --tenant acme --scopes ingest,query [--label "vector on web-1"]
 *       [--secret-id <arn>] [--update keys.json]
 *   npx tsx cli/create-api-key.ts …       (the same, as a script)
 *
 * With --update, the file (the secret's current value, saved with get-secret-value) gets the new entry
 * and is ready for put-secret-value; without it, the entry and the commands to add it are printed.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hashKey } from '../shared/domain/api-keys.js';
import { SCOPES, type Scope } from '../shared/domain/principal.js';
import { isValidTenant } from '../shared/domain/tenant.js';
import { parseKeySecret, type KeySecretEntry } from '../shared/adapters/aws/key-secret.js';

const SCRIPT = 'npx tsx cli/create-api-key.ts';
const USAGE = `usage: ${SCRIPT} --tenant <tenant> --scopes <${SCOPES.join(',')}> [--label <text>] [--secret-id <arn>] [--update <file>]`;

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

/** A bad option, or a --update file that cannot be read or written: the message says which. */
export class KeyOptionsError extends Error {
  override name = 'KeyOptionsError';
}

export interface CreateKeyOptions {
  tenant?: string | undefined;
  /** comma-, plus- or space-separated */
  scopes?: string | undefined;
  label?: string | undefined;
  /** the keys secret's ARN or name, for the commands printed */
  secretId?: string | undefined;
  /** the secret's current value, saved to a file: the entry is added to it */
  update?: string | undefined;
}

/**
 * Creates a key: returns what to print (the key, shown once, and how to add its hash to the secret).
 * `again` is how to run this again, for the hint about --update.
 */
export function createApiKey(options: CreateKeyOptions, again = 'this script'): string {
  const fail = (message: string): never => {
    throw new KeyOptionsError(message);
  };
  const tenant = options.tenant ?? fail('--tenant is required');
  if (!isValidTenant(tenant)) fail(`--tenant must be 1-63 characters of a-z, 0-9, '-', '_' (starting with a letter or digit)`);
  const scopes = (options.scopes ?? fail('--scopes is required'))
    .split(/[,+ ]/)
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of scopes) if (!(SCOPES as readonly string[]).includes(s)) fail(`unknown scope ${JSON.stringify(s)}: use ${SCOPES.join(', ')}`);
  if (scopes.length === 0) fail('--scopes needs at least one scope');
  if (options.label !== undefined && options.label.length > 200) fail('--label is at most 200 characters');

  const key = newApiKey();
  const entry = entryFor(key, tenant, [...new Set(scopes)] as Scope[], options.label);
  const secret = options.secretId ?? '"$SLUICE_KEYS_SECRET_ARN"';
  const out: string[] = [
    `API key for tenant ${tenant} (scopes: ${entry.scopes.join(', ')}; key id ${entry.hash.slice(0, 8)}).`,
    'It is shown only this once; Sluice keeps only its hash:',
    '',
    `  ${key}`,
    '',
  ];
  if (options.update) {
    let current = '';
    try {
      current = readFileSync(options.update, 'utf8');
    } catch (err) {
      fail(`cannot read ${options.update}: ${(err as Error).message}`);
    }
    try {
      writeFileSync(options.update, addEntry(current, entry));
    } catch (err) {
      fail(`${options.update}: ${(err as Error).message}`);
    }
    out.push(
      `${options.update} now lists its hash. Store it as the secret's new value, then remove the file:`,
      '',
      `  aws secretsmanager put-secret-value --secret-id ${secret} --secret-string file://${options.update}`,
      `  rm ${options.update}`,
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
      `  # add the entry to "keys" in keys.json, or run ${again} again with --update keys.json`,
      `  aws secretsmanager put-secret-value --secret-id ${secret} --secret-string file://keys.json`,
      `  rm keys.json`,
    );
  }
  out.push('', 'Requests then send: Authorization: Bearer <key>. The key works within 5 minutes (the authorizer caches the secret).');
  return `${out.join('\n')}\n`;
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
  try {
    process.stdout.write(
      createApiKey({ tenant: values.tenant, scopes: values.scopes, label: values.label, secretId: values['secret-id'], update: values.update }),
    );
  } catch (err) {
    if (!(err instanceof KeyOptionsError)) throw err;
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    process.exit(2);
  }
}

// Run as a script (npx tsx …), not when a test or the CLI imports the helpers above.
if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) main();
