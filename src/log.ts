import { pino, type Logger } from 'pino';

export type { Logger };

/** One structured logger for the whole process; components take a child with their own name. */
export function createLogger(opts: { level?: string; name?: string; destination?: 1 | 2 } = {}): Logger {
  return pino({
    name: opts.name ?? 'peregrine',
    level: opts.level ?? process.env.PEREGRINE_LOG_LEVEL ?? 'info',
  }, pino.destination({ fd: opts.destination ?? 1, sync: true }));
}

/** A logger that writes nothing: for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
