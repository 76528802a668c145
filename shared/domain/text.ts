/**
 * `String(value)` for a value whose type is not known statically (a query cell, a field of a JSON body, an
 * error's name or cause): primitives read as themselves, an Error as "Name: message", any other object as
 * "[object Object]". Calling it says the conversion is deliberate, so the lint rule against stringifying
 * objects by accident (no-base-to-string) stays on everywhere else.
 */
export function textOf(value: unknown): string {
  return String(value);
}
