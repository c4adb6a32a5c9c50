import type { EmittedAlert } from './detector.ts';

/** Kernel-side drop counters as the capture reports them: cause -> total since start. */
export type DropCounters = Record<string, number>;

/**
 * Falco's "syscall event drop" internal alert: when the capture's drop counters grew since the last
 * check, raise one Debug alert from source "internal" naming the counts, at most once per interval
 * (Falco's default: rate 1/30 s, burst 1) so a sustained overload does not flood the outputs.
 */
export function createDropAlerter(opts: { intervalMs: number; hostname: string; now?: () => number }) {
  const now = opts.now ?? Date.now;
  let last: DropCounters = {};
  let lastAlertAt = -Infinity;
  let pending: DropCounters = {};
  return {
    /** Feed the current totals (every second); returns an alert when one is due. */
    check(totals: DropCounters): (EmittedAlert & Record<string, unknown>) | undefined {
      for (const [cause, n] of Object.entries(totals)) {
        const d = n - (last[cause] ?? 0);
        if (d > 0) pending[cause] = (pending[cause] ?? 0) + d;
      }
      last = { ...totals };
      const n = Object.values(pending).reduce((a, b) => a + b, 0);
      const t = now();
      if (n === 0 || t - lastAlertAt < opts.intervalMs) return undefined;
      lastAlertAt = t;
      const fields: Record<string, number> = { n_drops: n };
      for (const [cause, d] of Object.entries(pending)) fields[`n_drops_${cause}`] = d;
      pending = {};
      const message = `Falco internal: syscall event drop. ${n} system calls dropped since the last report.`;
      const time = new Date(t).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
      return {
        hostname: opts.hostname, output: message, output_fields: fields, priority: 'Debug',
        rule: 'Falco internal: syscall event drop', source: 'internal', tags: [], time,
      };
    },
  };
}
