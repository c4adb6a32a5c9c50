import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Checks an Authorization header against the configured token: scheme "Bearer" in any case (RFC 7235),
 * compared in constant time (both sides hashed first, so neither the content nor the length leaks).
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (header === undefined) return false;
  const m = /^bearer[ \t]+(.*)$/i.exec(header.trim());
  if (!m) return false;
  return timingSafeEqual(digest(m[1]!.trim()), digest(token));
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
