/**
 * Query tokens: which execution a `202` refers to, bound to the tenant that started it and signed, so a
 * token can neither be forged nor used by another tenant (who gets 404, as for any unknown query).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { NotFoundError } from './errors.js';

export interface QueryTokenPayload {
  /** the engine's execution id */
  id: string;
  tenant: string;
  /** the query's range, ms */
  start: number;
  end: number;
  /** when the token stops being valid, ms */
  exp: number;
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

function mac(body: string, secret: Buffer): string {
  return createHmac('sha256', secret).update(`sluice-query-token.v1.${body}`).digest('base64url');
}

export function signQueryToken(payload: QueryTokenPayload, secret: Buffer): string {
  const body = b64(JSON.stringify(payload));
  return `${body}.${mac(body, secret)}`;
}

/** The payload of a valid token for this tenant; NotFoundError for anything else (never says which). */
export function verifyQueryToken(token: string, tenant: string, secret: Buffer, nowMs: number): QueryTokenPayload {
  const unknown = () => new NotFoundError('no such query for this key (tokens are valid for 10 minutes)');
  const [body, sig, extra] = token.split('.');
  if (!body || !sig || extra !== undefined || token.length > 2048) throw unknown();
  const expected = Buffer.from(mac(body, secret));
  const given = Buffer.from(sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw unknown();
  let payload: QueryTokenPayload;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as QueryTokenPayload;
  } catch {
    throw unknown();
  }
  if (payload.tenant !== tenant || typeof payload.exp !== 'number' || payload.exp < nowMs) throw unknown();
  return payload;
}
