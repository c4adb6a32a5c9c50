import { pino, type Logger } from 'pino';

/** A real pino logger whose lines are kept as parsed objects, so tests can assert what was logged. */
export function capturingLogger(level = 'info'): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level }, { write: (s: string) => { lines.push(JSON.parse(s) as Record<string, unknown>); } });
  return { log, lines };
}
