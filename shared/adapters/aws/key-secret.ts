/**
 * The API keys secret: a Secrets Manager SecretString holding only SHA-256 hashes of keys, e.g.
 * `{"keys":[{"hash":"<sha256 hex of the key>","tenant":"acme","scopes":["ingest","query"],"label":"vector on web-1"}]}`.
 * Read by SecretsManagerKeyStore and written by cli/create-api-key.ts. Pure: no I/O.
 */
import * as z from 'zod';
import { SCOPES, type Principal } from '../../domain/principal.js';
import { TENANT_PATTERN } from '../../domain/tenant.js';

const entrySchema = z
  .object({
    hash: z.string().regex(/^[0-9a-f]{64}$/, 'must be the SHA-256 of the key as 64 lowercase hex digits (never the key itself)'),
    tenant: z.string().regex(TENANT_PATTERN, "must be 1-63 characters of a-z, 0-9, '-', '_'"),
    scopes: z.array(z.enum(SCOPES)).min(1),
    /** who or what holds the key, for people reading the secret */
    label: z.string().max(200).optional(),
    created: z.string().max(40).optional(),
  })
  .strict();

/**
 * Other top-level fields are ignored, so a secret created from a template with a generated field (CDK's
 * generateSecretString with secretStringTemplate '{"keys":[]}') is still valid. Entries are strict: a
 * misspelt field there would silently change what a key may do.
 */
export const keySecretSchema = z.object({ keys: z.array(entrySchema) });

export type KeySecret = z.infer<typeof keySecretSchema>;
export type KeySecretEntry = z.infer<typeof entrySchema>;

export class KeySecretError extends Error {
  override name = 'KeySecretError';
}

/**
 * Validates the secret's text. Messages name the entry and field, never echo a value: a key pasted where
 * its hash belongs must not end up in logs.
 */
export function parseKeySecret(text: string): KeySecret {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text around the error; it is not repeated here.
    throw new KeySecretError('the API keys secret is not valid JSON; expected {"keys":[{"hash":…,"tenant":…,"scopes":[…]}]}');
  }
  const parsed = keySecretSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || 'secret'}: ${i.code === 'invalid_value' ? `must be one of ${SCOPES.join(', ')}` : i.message}`);
    throw new KeySecretError(`the API keys secret is not valid: ${problems.join('; ')}`);
  }
  const seen = new Set<string>();
  parsed.data.keys.forEach((k, i) => {
    if (seen.has(k.hash)) throw new KeySecretError(`the API keys secret is not valid: keys.${i}.hash: the same key hash is listed twice`);
    seen.add(k.hash);
  });
  return parsed.data;
}

/** Each key's hash → the principal it stands for. */
export function principalsByHash(secret: KeySecret): Map<string, Principal> {
  return new Map(secret.keys.map((k) => [k.hash, { tenant: k.tenant, scopes: [...new Set(k.scopes)], keyId: k.hash.slice(0, 8) }]));
}
