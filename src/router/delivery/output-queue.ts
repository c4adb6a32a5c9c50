import { setTimeout as sleep } from 'node:timers/promises';
import type { FalcoAlert } from '../../alert/alert.ts';
import type { Logger } from '../../log.ts';
import { DeliveryError, type DeliveryTuning, type Sender } from '../output.ts';
import type { RouterMetrics } from '../metrics.ts';
import { backoffDelay, type RetryPolicy } from './backoff.ts';
import { TokenBucket } from './rate-limit.ts';

export interface QueueSettings extends DeliveryTuning, RetryPolicy {
  /** Alerts held at most; beyond that new alerts are dropped (counted and logged). */
  queueSize: number;
}

interface Pending { alert: FalcoAlert; acceptedAt: number }

/**
 * One output instance's delivery: a bounded queue drained by `concurrency` workers, each send under a
 * timeout, failed sends retried with backoff (or the destination's Retry-After), an optional rate limit.
 * Every instance has its own queue, so a slow or dead output never delays another.
 */
export class OutputQueue {
  readonly name: string;
  readonly type: string;
  private readonly items: Pending[] = [];
  private readonly waiters: (() => void)[] = [];
  private readonly workers: Promise<void>[] = [];
  private readonly bucket: TokenBucket | undefined;
  private readonly shutdown = new AbortController();
  private readonly sender: Sender;
  private readonly settings: QueueSettings;
  private readonly metrics: RouterMetrics;
  private readonly log: Logger;
  private inFlight = 0;
  private closed = false;

  constructor(name: string, type: string, sender: Sender, settings: QueueSettings, metrics: RouterMetrics, log: Logger) {
    this.name = name;
    this.type = type;
    this.sender = sender;
    this.settings = settings;
    this.metrics = metrics;
    this.log = log;
    this.bucket = settings.ratePerSecond > 0 ? new TokenBucket(settings.ratePerSecond, Math.max(1, Math.ceil(settings.ratePerSecond))) : undefined;
    for (let i = 0; i < Math.max(1, settings.concurrency); i++) this.workers.push(this.work());
  }

  /** Queues an alert; false when the queue is full (the drop is counted and logged). */
  push(alert: FalcoAlert, acceptedAt = performance.now()): boolean {
    if (this.closed || this.items.length >= this.settings.queueSize) {
      this.metrics.alerts.inc({ output: this.name, type: this.type, result: 'dropped' });
      this.log.warn({ output: this.name, rule: alert.rule, uuid: alert.uuid, queueSize: this.settings.queueSize },
        this.closed ? 'output closed; alert dropped' : 'output queue full; alert dropped');
      return false;
    }
    this.items.push({ alert, acceptedAt });
    this.metrics.queueDepth.set({ output: this.name, type: this.type }, this.items.length);
    this.waiters.shift()?.();
    return true;
  }

  get depth(): number { return this.items.length + this.inFlight; }

  /** Stops taking alerts, delivers what is queued until `deadlineMs`, then aborts what is left. */
  async close(deadlineMs: number): Promise<void> {
    this.closed = true;
    const deadline = Date.now() + deadlineMs;
    while (this.depth > 0 && Date.now() < deadline) await sleep(20);
    this.shutdown.abort();
    for (const w of this.waiters.splice(0)) w();
    await Promise.allSettled(this.workers);
    const lost = this.items.splice(0);
    if (lost.length > 0) {
      this.metrics.alerts.inc({ output: this.name, type: this.type, result: 'dropped' }, lost.length);
      this.log.warn({ output: this.name, count: lost.length }, 'shutdown deadline reached; undelivered alerts dropped');
    }
    await this.sender.close?.();
  }

  private async work(): Promise<void> {
    while (!this.shutdown.signal.aborted) {
      if (this.items.length === 0) {
        await new Promise<void>((resolve) => this.waiters.push(resolve));
        continue;
      }
      const batch = this.items.splice(0, Math.max(1, this.settings.maxBatch));
      this.inFlight += batch.length;
      this.metrics.queueDepth.set({ output: this.name, type: this.type }, this.items.length);
      try {
        await this.deliver(batch);
      } finally {
        this.inFlight -= batch.length;
      }
    }
  }

  private async deliver(batch: Pending[]): Promise<void> {
    const labels = { output: this.name, type: this.type };
    for (let attempt = 0; ; attempt++) {
      const wait = this.bucket?.reserve() ?? 0;
      if (wait > 0 && !(await this.pause(wait))) return this.giveUp(batch, new Error('shut down'));
      try {
        const signal = AbortSignal.any([this.shutdown.signal, AbortSignal.timeout(this.settings.timeoutMs)]);
        await this.sender.send(batch.map((p) => p.alert), signal);
        const now = performance.now();
        for (const p of batch) this.metrics.latency.observe(labels, (now - p.acceptedAt) / 1000);
        this.metrics.alerts.inc({ ...labels, result: 'sent' }, batch.length);
        this.metrics.outputs.inc({ destination: this.type, status: 'ok' });
        return;
      } catch (err) {
        this.metrics.outputs.inc({ destination: this.type, status: 'error' });
        const retryable = !(err instanceof DeliveryError) || err.retryable;
        if (!retryable || attempt >= this.settings.maxRetries || this.shutdown.signal.aborted) return this.giveUp(batch, err);
        const delay = err instanceof DeliveryError && err.retryAfterMs !== undefined
          ? err.retryAfterMs
          : backoffDelay(this.settings, attempt);
        this.metrics.retries.inc(labels);
        this.log.warn({ output: this.name, attempt: attempt + 1, delayMs: delay, err: errText(err) }, 'send failed; retrying');
        if (!(await this.pause(delay))) return this.giveUp(batch, err);
      }
    }
  }

  /** Sleeps unless shutdown comes first; false when interrupted. */
  private async pause(ms: number): Promise<boolean> {
    try {
      await sleep(ms, undefined, { signal: this.shutdown.signal });
      return true;
    } catch {
      return false;
    }
  }

  private giveUp(batch: Pending[], err: unknown): void {
    this.metrics.alerts.inc({ output: this.name, type: this.type, result: 'failed' }, batch.length);
    this.log.error({ output: this.name, count: batch.length, rules: [...new Set(batch.map((p) => p.alert.rule))], err: errText(err) },
      'delivery failed; giving up on these alerts');
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
