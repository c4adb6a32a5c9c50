import type { Logger } from './log.ts';

/**
 * Log lines for events that can come by the thousand (drops, refusals, retries, dead letters): the first
 * occurrence is logged at once, later ones are counted and logged as one line per interval with the count.
 */
export class ThrottledLog {
  private readonly log: Logger;
  private readonly intervalMs: number;
  private readonly keys = new Map<string, { count: number; lastAt: number; timer?: NodeJS.Timeout; level: 'warn' | 'error'; msg: string; fields: Record<string, unknown> }>();

  constructor(log: Logger, intervalMs = 10_000) {
    this.log = log;
    this.intervalMs = intervalMs;
  }

  note(key: string, level: 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}, n = 1): void {
    const now = Date.now();
    let k = this.keys.get(key);
    if (!k) this.keys.set(key, (k = { count: 0, lastAt: -Infinity, level, msg, fields }));
    k.count += n;
    k.fields = fields;
    k.msg = msg;
    if (now - k.lastAt >= this.intervalMs) return this.emit(key);
    k.timer ??= setTimeout(() => this.emit(key), k.lastAt + this.intervalMs - now).unref();
  }

  /** Logs what is still counted (on shutdown). */
  flush(): void {
    for (const key of this.keys.keys()) this.emit(key);
  }

  private emit(key: string): void {
    const k = this.keys.get(key)!;
    if (k.timer) clearTimeout(k.timer);
    k.timer = undefined;
    if (k.count === 0) return;
    this.log[k.level]({ ...k.fields, count: k.count, perSeconds: this.intervalMs / 1000 }, k.msg);
    k.count = 0;
    k.lastAt = Date.now();
  }
}
