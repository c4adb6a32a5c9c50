import { readConfigFile } from './config-file.ts';
import { Agent, request } from 'undici';
import { DeliveryError } from '../src/router/output.ts';
import { redactUrl } from '../src/redact.ts';

/** TLS settings shared by HTTP outputs (Falcosidekick's checkcert, plus a CA file). */
export interface HttpTls {
  checkcert: boolean;
  cacertfile: string;
}

export function httpAgent(tls: HttpTls): Agent {
  return new Agent({
    connect: {
      rejectUnauthorized: tls.checkcert,
      ...(tls.cacertfile ? { ca: readConfigFile('cacertfile', tls.cacertfile).toString('utf8') } : {}),
    },
  });
}

/**
 * Sends one JSON request and maps the answer to the delivery layer's terms: 2xx is success;
 * 429 and 5xx and network errors may succeed later; other 4xx will not.
 */
export async function sendJson(agent: Agent, url: string, opts: {
  method: 'POST' | 'PUT'; headers: Record<string, string>; body: string; signal: AbortSignal;
}): Promise<void> {
  let res;
  try {
    res = await request(url, { method: opts.method, headers: opts.headers, body: opts.body, signal: opts.signal, dispatcher: agent });
  } catch (err) {
    throw new DeliveryError(`${opts.method} ${redact(url)}: ${(err as Error).message}`, { retryable: true, cause: err });
  }
  const text = await res.body.text().catch(() => '');
  if (res.statusCode >= 200 && res.statusCode < 300) return;
  throw statusError(res.statusCode, res.headers['retry-after'], `${opts.method} ${redact(url)}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
}

export function statusError(status: number, retryAfter: string | string[] | undefined | null, message: string): DeliveryError {
  const retryable = status === 429 || status === 408 || status >= 500;
  const retryAfterMs = parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter ?? undefined);
  return new DeliveryError(message, { retryable, status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
}

/** Retry-After is seconds or an HTTP date. */
export function parseRetryAfter(v: string | undefined, now = Date.now()): number | undefined {
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Keeps secrets in webhook URLs (Slack's path is the credential) out of logs: the one helper in src/redact.ts. */
export const redact = redactUrl;
