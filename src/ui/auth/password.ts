import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/** scrypt cost parameters: N=2^15, r=8, p=1 (32 MiB, about 50-100 ms per check). */
const N = 1 << 15, R = 8, P = 1, KEYLEN = 32;
const MAXMEM = 64 * 1024 * 1024;

/** A password hash for ui.passwordhash: `scrypt$N$r$p$salt$key`, salt and key in base64. */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, KEYLEN, { N, r: R, p: P, maxmem: MAXMEM });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Throws a message naming what is wrong with a configured hash (checked at start). */
export function checkHashFormat(hash: string): void {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt' || !parts.slice(1, 4).every((x) => /^\d+$/.test(x))) {
    throw new Error('ui.passwordhash: not a hash made by `peregrine ui-password` (expected scrypt$N$r$p$salt$key)');
  }
}

export function verifyPassword(password: string, hash: string): boolean {
  const [, n, r, p, salt, key] = hash.split('$');
  const expected = Buffer.from(key ?? '', 'base64');
  if (expected.length === 0) return false;
  const got = scryptSync(password, Buffer.from(salt ?? '', 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: MAXMEM });
  return timingSafeEqual(got, expected);
}
