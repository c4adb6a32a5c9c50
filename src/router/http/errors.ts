import type { FastifyError } from 'fastify';
import { describeAlertError } from '../../alert/schema.ts';
import { redactText } from '../../redact.ts';

/** The reply for a request fastify refused before the handler ran: status and one sentence naming the cause. */
export function requestError(err: FastifyError, bodyLimit: number, body: unknown, isAlert: boolean): { status: number; error: string } {
  const r = describe(err, bodyLimit, body, isAlert);
  // Replies echo parts of what was sent; they pass the same redaction as log lines.
  return { status: r.status, error: redactText(r.error) };
}

function describe(err: FastifyError, bodyLimit: number, body: unknown, isAlert: boolean): { status: number; error: string } {
  if (err.validation) return { status: 400, error: isAlert ? describeAlertError(err.validation as never, body) : err.message };
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return { status: 413, error: `request body is larger than bodylimit (${bodyLimit} bytes)` };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return { status: 415, error: err.message };
  }
  const status = err.statusCode ?? 500;
  return status < 500 ? { status, error: err.message } : { status, error: 'internal error' };
}
