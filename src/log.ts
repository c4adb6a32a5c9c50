import { pino, type Logger } from 'pino';
import { redactText } from './redact.ts';

export type { Logger };

/**
 * One structured logger for the whole process; components take a child with their own name.
 *
 * Writes are asynchronous: with synchronous writes to a pipe whose reader lags (a container runtime, a
 * log shipper), every log line blocked the event loop — and under overload pino busy-waited on EAGAIN
 * while alerts waited behind it. Lines are flushed synchronously at exit (pino does that for an
 * asynchronous destination); beyond `maxLength` bytes not yet written, lines are dropped rather than
 * buffered without bound.
 */
export function createLogger(opts: { level?: string; name?: string; destination?: 1 | 2 } = {}): Logger {
  return pino({
    name: opts.name ?? 'peregrine',
    level: opts.level ?? process.env.PEREGRINE_LOG_LEVEL ?? 'info',
    // Every line, whoever wrote it (outputs, client libraries' errors), passes the one redaction helper.
    hooks: { streamWrite: redactText },
  }, pino.destination({ fd: opts.destination ?? 1, sync: false, minLength: 0, maxLength: 16 * 1024 * 1024 }));
}

/** A logger that writes nothing: for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
