import { readConfigFile } from './config-file.ts';
import { HttpClient, type RequestTarget } from '../src/http-client/client.ts';
import { DeliveryError, type OutputContext } from '../src/router/output.ts';
import { redactUrl } from '../src/redact.ts';

/** TLS settings shared by HTTP outputs (Falcosidekick's checkcert, plus a CA file). */
export interface HttpTls {
  checkcert: boolean;
  cacertfile: string;
}

type TlsContext = Pick<OutputContext, 'clientCaFile' | 'clientCert'>;

/** The outputs' own HTTP/1.1 client (src/http-client/) with these TLS settings. */
export function httpClient(tls: HttpTls, ctx: TlsContext = {}): HttpClient {
  const ca = extraCas(tls, ctx);
  const cert = ctx.clientCert;
  return new HttpClient({ checkcert: verifies(tls, ctx), ...(ca ? { caPem: ca } : {}), ...(cert ? { clientCert: { cert: cert.cert, key: cert.key } } : {}) });
}

/** With a client certificate the server's is always verified: Falcosidekick ignores checkcert then. */
function verifies(tls: HttpTls, ctx: TlsContext): boolean {
  return ctx.clientCert !== undefined || tls.checkcert;
}

/** The output's cacertfile, the shared tlsclient.cacertfile and the mutual-TLS CA, as one PEM text (undefined when none is set). */
function extraCas(tls: HttpTls, ctx: TlsContext): string | undefined {
  const pems = [
    ...(tls.cacertfile ? [readConfigFile('cacertfile', tls.cacertfile).toString('utf8')] : []),
    ...(ctx.clientCaFile ? [readConfigFile('tlsclient.cacertfile', ctx.clientCaFile).toString('utf8')] : []),
    ...(ctx.clientCert ? [ctx.clientCert.ca.toString('utf8')] : []),
  ];
  return pems.length > 0 ? pems.join('\n') : undefined;
}

/**
 * Sends one request body and maps the answer to the delivery layer's terms: 2xx is success; 429, 408 and 5xx
 * and network errors may succeed later; other 4xx will not. Only an error answer's first 200 bytes are kept,
 * for the message.
 */
export async function sendJson(target: RequestTarget, url: string, body: string, signal: AbortSignal): Promise<void> {
  let res;
  try {
    res = await target.send(body, signal, 200);
  } catch (err) {
    throw sendError(target.method, url, err);
  }
  if (res.status >= 200 && res.status < 300) return;
  throw statusError(res.status, res.headers['retry-after'], `${target.method} ${redact(url)}: HTTP ${res.status} ${res.body.toString('utf8')}`);
}

/** A transport failure (refused, reset, timed out, aborted): retryable. */
function sendError(method: string, url: string, err: unknown): DeliveryError {
  return new DeliveryError(`${method} ${redact(url)}: ${(err as Error)?.message ?? String(err)}`, { retryable: true, cause: err });
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
