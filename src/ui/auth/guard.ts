import type { IncomingMessage } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

export type AuthMode = 'login' | 'token' | 'none';

export const SESSION_COOKIE = 'peregrine_session';

/** How the UI and API are protected: a user login, the router's bearer token, or loopback only. */
export function authMode(ui: { user: string; passwordhash: string }, authtoken: string): AuthMode {
  if (ui.user !== '' && ui.passwordhash !== '') return 'login';
  if (authtoken !== '') return 'token';
  return 'none';
}

export function isLoopback(addr: string | undefined): boolean {
  if (!addr) return false;
  const a = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  if (isIP(a) === 4) return a.startsWith('127.');
  return a === '::1';
}

export function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** "Authorization: Bearer <token>" (scheme in any case), compared in constant time. */
export function bearerOk(req: IncomingMessage, token: string): boolean {
  const m = /^bearer[ \t]+(.+)$/i.exec((req.headers.authorization ?? '').trim());
  return m ? sameSecret(m[1]!.trim(), token) : false;
}

export function sameSecret(a: string, b: string): boolean {
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(a), h(b));
}

/**
 * A state-changing request (POST) must come from our own pages: JSON content (which a cross-site form
 * cannot send without a CORS preflight we never answer), and an Origin, when sent, naming this host.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return false;
  const origin = req.headers.origin;
  if (origin === undefined) return req.headers['sec-fetch-site'] === undefined || req.headers['sec-fetch-site'] === 'same-origin';
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
