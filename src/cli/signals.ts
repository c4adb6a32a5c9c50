import type { Logger } from '../log.ts';

/** Shutdown may take drainms plus this (closing outputs, syncing the spool), never more. */
export const SHUTDOWN_MARGIN_MS = 700;

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

/**
 * Runs the shutdown, but never past `limitMs`: a stalled client or a broker client that keeps
 * reconnecting must not hold the process. What was not delivered by then stays in the spool.
 */
export async function boundedShutdown(log: Logger, limitMs: number, work: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), limitMs); });
  const outcome = await Promise.race([work().then(() => 'done' as const), late]);
  clearTimeout(timer);
  if (outcome === 'late') log.warn({ limitMs }, 'shutdown took too long; exiting, undelivered alerts stay in the spool');
  // Timers or sockets a client library still holds must not keep the process alive.
  setTimeout(() => process.exit(process.exitCode ?? 0), 50).unref();
}
