import { readConfigFile } from './config-file.ts';
import { Agent, type Dispatcher } from 'undici';
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
 *
 * Goes through undici's dispatch() with a small handler instead of request(): no response stream, body
 * mixin or abort-listener helper per request, ~50 µs less CPU per send at one in flight (bench/README.md),
 * which is the webhook output's whole cost when alerts go one at a time. Only an error answer's first
 * 200 bytes are kept, for the message.
 */
export function sendJson(agent: Agent, url: string, opts: {
  method: 'POST' | 'PUT'; headers: Record<string, string>; body: string; signal: AbortSignal;
}): Promise<void> {
  const { signal } = opts;
  if (signal.aborted) return Promise.reject(sendError(opts.method, url, signal.reason));
  const { origin, pathname, search } = parsedUrl(url);
  return new Promise<void>((resolve, reject) => {
    let status = 0;
    let retryAfter: string | string[] | undefined;
    let text = '';
    let controller: Dispatcher.DispatchController | undefined;
    let settled = false;
    const settle = (err?: DeliveryError) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    // The delivery layer's timeout or shutdown: the request is torn down (its connection closed) at once.
    function onAbort() {
      const err = sendError(opts.method, url, signal.reason);
      controller?.abort(err);
      settle(err);
    }
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      agent.dispatch({ origin, path: pathname + search, method: opts.method, headers: opts.headers, body: opts.body }, {
        onRequestStart(c) { controller = c; if (settled) c.abort(new Error('aborted')); },
        onResponseStart(_c, statusCode, headers) { status = statusCode; retryAfter = headers['retry-after']; },
        onResponseData(_c, chunk) { if ((status < 200 || status >= 300) && text.length < 200) text += chunk.toString('utf8', 0, 200 - text.length); },
        onResponseEnd() {
          settle(status >= 200 && status < 300 ? undefined : statusError(status, retryAfter, `${opts.method} ${redact(url)}: HTTP ${status} ${text.slice(0, 200)}`));
        },
        onResponseError(_c, err) { settle(sendError(opts.method, url, err)); },
      });
    } catch (err) {
      settle(sendError(opts.method, url, err));
    }
  });
}

/** A transport failure (refused, reset, timed out, aborted): retryable. */
function sendError(method: string, url: string, err: unknown): DeliveryError {
  return new DeliveryError(`${method} ${redact(url)}: ${(err as Error)?.message ?? String(err)}`, { retryable: true, cause: err });
}

/** An output sends to one URL: parsed once, not per request. */
const parsedUrls = new Map<string, URL>();
function parsedUrl(url: string): URL {
  let u = parsedUrls.get(url);
  if (!u) {
    u = new URL(url);
    parsedUrls.set(url, u);
  }
  return u;
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
