import { pino, type Logger } from 'pino';

export type { Logger };

/** One structured logger for the whole process; components take a child with their own name. */
export function createLogger(opts: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: opts.name ?? 'peregrine',
    level: opts.level ?? process.env.PEREGRINE_LOG_LEVEL ?? 'info',
  });
}

/** A logger that writes nothing: for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
