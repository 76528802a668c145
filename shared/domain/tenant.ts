import { BadRequestError } from './errors.js';

/**
 * Tenant ids end up in object keys and queries, so they are restricted to a safe alphabet:
 * lowercase letters, digits, '-' and '_', starting with a letter or digit, at most 63 characters.
 */
export const TENANT_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export const DEFAULT_TENANT = 'default';

export function isValidTenant(value: string): boolean {
  return TENANT_PATTERN.test(value);
}

export function assertTenant(value: string): string {
  if (!isValidTenant(value)) {
    throw new BadRequestError(
      `invalid tenant id ${JSON.stringify(value.slice(0, 80))}: use 1-63 characters of a-z, 0-9, '-' and '_', starting with a letter or digit`,
    );
  }
  return value;
}
