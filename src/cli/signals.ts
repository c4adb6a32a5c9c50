import type { Logger } from '../log.ts';

/** Resolves on the first SIGTERM or SIGINT, after logging it: long-running commands then shut down cleanly. */
export function untilStopSignal(log: Logger, details: Record<string, unknown>, message: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal, ...details }, message);
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
