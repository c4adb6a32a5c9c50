import { redactText } from '../../redact.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FalcoAlert } from '../../alert/alert.ts';
import type { Logger } from '../../log.ts';
import type { SpoolReader } from '../../spool/contract.ts';
import { matchesFilter, type AlertFilter } from '../filter.ts';
import type { RouterMetrics } from '../metrics.ts';
import { DeliveryError, type DeliveryTuning, type Sender } from '../output.ts';
import type { AdaptiveConcurrency } from './adaptive-concurrency.ts';
import { backoffDelay, type RetryPolicy } from './backoff.ts';
import { TokenBucket } from './rate-limit.ts';
import { decodeSpooled, type SpooledAlert } from './spooled-alert.ts';
import type { ThrottledLog } from '../../throttled-log.ts';

export interface QueueSettings extends DeliveryTuning, RetryPolicy {
  /** Alerts of this output held in memory at once: a window over the spool, which holds the rest. */
  window: number;
}

/** An alert given up on, for the dead-letter log. */
export interface DeadLetter {
  output: string;
  type: string;
  error: string;
  attempts: number;
  /** The alert, or the undecodable spool record as text. */
  alert: FalcoAlert | string;
  acceptedAt: number;
}

export interface QueueDeps {
  reader: SpoolReader;
  filter: AlertFilter;
  /** Sends in flight: adaptive (AIMD) for HTTP outputs, fixed (min = max) for the others. */
  slots: AdaptiveConcurrency;
  deadLetter(d: DeadLetter): Promise<void>;
  metrics: RouterMetrics;
  log: Logger;
  notices: ThrottledLog;
}

interface Item {
  seq: number;
  alert: FalcoAlert;
  acceptedAt: number;
  attempts: number;
  done: boolean;
  /** Send on its own: it was in a batch that failed for good, and may be the one that caused it. */
  alone: boolean;
  timer?: NodeJS.Timeout;
  /** performance.now() when it last became ready to send (how long it has waited for a slot). */
  readyAt?: number;
}

/**
 * An output is behind when the oldest alert ready to send has waited this long for a slot beyond its
 * batch wait: it cannot keep up, and input is then paced so that delivery keeps its share of the loop.
 */
export const BEHIND_MS = 50;

/**
 * One output instance's delivery from its cursor in the spool. Alerts are read in order into a bounded
 * window and sent independently: a failed alert waits out its own backoff while later ones keep
 * flowing, so one bad alert or one slow retry never holds the others (no head-of-line blocking). The
 * cursor advances to the oldest alert not yet done, so a crash redelivers at most the window (at least
 * once). After `maxRetries`, or at once for an error a retry cannot fix, the alert goes to the dead-letter log.
 */
export class OutputQueue {
  readonly name: string;
  readonly type: string;
  private readonly sender: Sender;
  private readonly settings: QueueSettings;
  private readonly deps: QueueDeps;
  private readonly bucket: TokenBucket | undefined;
  private readonly labels: { output: string; type: string };
  /** Metric children bound to this output's labels once (prom-client hashes label objects on every call). */
  private readonly bound: { latency: { observe(v: number): void }; sent: { inc(n?: number): void }; ok: { inc(n?: number): void } };
  /** Every alert read and not yet passed by the cursor, in log order. */
  private order: Item[] = [];
  private orderHead = 0;
  private nextToRead = -1;
  private held = 0;
  /** Seqs of alerts done (sent or dead-lettered) that the cursor has not passed yet: saved with it. */
  private readonly doneAbove = new Set<number>();
  private readonly ready: Item[] = [];
  private readonly sleeping = new Set<Item>();
  private readonly sends = new Set<Promise<void>>();
  private readonly stop = new AbortController();
  private wakeDispatcher: (() => void) | undefined;
  private wakePuller: (() => void) | undefined;
  private readonly loops: Promise<void>[];

  constructor(name: string, type: string, sender: Sender, settings: QueueSettings, deps: QueueDeps) {
    this.name = name;
    this.type = type;
    this.sender = sender;
    this.settings = settings;
    this.deps = deps;
    this.labels = { output: name, type };
    this.bound = {
      latency: deps.metrics.latency.labels(this.labels),
      sent: deps.metrics.alerts.labels({ ...this.labels, result: 'sent' }),
      ok: deps.metrics.outputs.labels({ destination: type, status: 'ok' }),
    };
    this.bucket = settings.ratePerSecond > 0 ? new TokenBucket(settings.ratePerSecond, Math.max(1, Math.ceil(settings.ratePerSecond))) : undefined;
    this.loops = [this.pull(), this.dispatch()];
  }

  /** Alerts not yet delivered or given up (in flight and still in the spool included). */
  /** The last send's failure while sends keep failing (cleared by a success): /healthz shows it. */
  lastFailure: { at: number; error: string } | undefined;

  get depth(): number {
    return this.deps.reader.pending;
  }

  /** Alerts not sent again after a restart because the previous run had saved them as delivered. */
  get skippedAsDelivered(): number {
    return this.deps.reader.skippedAsDone;
  }

  /**
   * Alerts wait for a slot longer than sending takes (BEHIND_MS past the batch wait): more input would only
   * grow the backlog, so the router paces input while any output is behind. An output that keeps up (a
   * NATS flush per batch, a fast webhook) is never behind, however busy it is.
   */
  get behind(): boolean {
    const head = this.ready[0];
    return head !== undefined && performance.now() - head.readyAt! > this.settings.batchWaitMs + BEHIND_MS;
  }

  get concurrency(): number {
    return this.deps.slots.limit;
  }

  /**
   * Shutdown: alerts waiting out a backoff are tried once more at once, delivery goes on until the log is
   * caught up or `deadlineMs` passed, then sends in flight are aborted. What is left stays in the spool.
   */
  async close(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    for (const it of this.sleeping) {
      clearTimeout(it.timer);
      this.makeReady(it);
    }
    this.sleeping.clear();
    while (Date.now() < deadline && (this.held > 0 || this.deps.reader.pending > 0)) await sleep(Math.min(20, deadline - Date.now()));
    this.stop.abort();
    for (const it of this.sleeping) clearTimeout(it.timer);
    this.wakeDispatcher?.();
    this.wakePuller?.();
    // A sender that ignores its abort signal must not hold the process: wait briefly, then move on.
    await Promise.race([Promise.allSettled([...this.loops, ...this.sends]), sleep(300)]);
    this.advance();
    await Promise.race([this.sender.close?.().catch((err: unknown) => this.deps.log.warn({ err: errText(err) }, 'output close failed')), sleep(500)]);
  }

  // ---- reading the spool ----

  private async pull(): Promise<void> {
    const { reader } = this.deps;
    while (!this.stop.signal.aborted) {
      // Refill once a slice of the window is free, not per freed slot: a slow output frees one slot per
      // send, and reading the spool one record at a time costs a read call each.
      if (this.held > this.settings.window - Math.max(1, Math.floor(this.settings.window / 8))) {
        await new Promise<void>((resolve) => (this.wakePuller = resolve));
        this.wakePuller = undefined;
        continue;
      }
      const entries = await reader.next(this.settings.window - this.held, this.stop.signal);
      for (const e of entries) {
        this.nextToRead = e.seq + 1;
        let item: Item;
        try {
          // Shared by every output reading this entry from memory: outputs never modify alerts.
          const s = (e.memo as SpooledAlert | undefined) ?? decodeSpooled(e.payload);
          item = { seq: e.seq, alert: s.alert, acceptedAt: s.acceptedAt, attempts: 0, done: false, alone: false };
          this.order.push(item);
          if (s.to !== undefined ? s.to !== this.name : !matchesFilter(s.alert, this.deps.filter)) {
            item.done = true;
            continue;
          }
        } catch (err) {
          item = { seq: e.seq, alert: undefined as unknown as FalcoAlert, acceptedAt: e.appendedAt, attempts: 0, done: false, alone: true };
          this.order.push(item);
          this.held++;
          void this.giveUp([item], err, e.payload.toString('utf8'));
          continue;
        }
        this.held++;
        this.makeReady(item);
      }
      this.advance();
    }
  }

  /** Moves the cursor to the oldest alert not yet done. */
  private advance(): void {
    while (this.orderHead < this.order.length && this.order[this.orderHead]!.done) {
      this.doneAbove.delete(this.order[this.orderHead]!.seq);
      // Cleared, not only passed: a passed slot kept its alert alive until the array was next compacted
      // (1,000+ alerts), long enough to be copied into the old generation (bench/README.md, GC).
      this.order[this.orderHead++] = undefined as unknown as Item;
    }
    if (this.orderHead > 1024 && this.orderHead * 2 > this.order.length) {
      this.order = this.order.slice(this.orderHead);
      this.orderHead = 0;
    }
    const upTo = this.orderHead < this.order.length ? this.order[this.orderHead]!.seq : this.nextToRead;
    if (upTo >= 0) this.deps.reader.ack(upTo, this.doneAbove);
  }

  private finish(it: Item): void {
    if (it.done) return;
    it.done = true;
    this.doneAbove.add(it.seq);
    this.held--;
    this.wakePuller?.();
  }

  // ---- sending ----

  private makeReady(it: Item): void {
    it.readyAt = performance.now();
    this.ready.push(it);
    this.wakeDispatcher?.();
  }

  private async dispatch(): Promise<void> {
    const { slots } = this.deps;
    while (!this.stop.signal.aborted) {
      if (this.ready.length === 0) {
        await new Promise<void>((resolve) => (this.wakeDispatcher = resolve));
        this.wakeDispatcher = undefined;
        continue;
      }
      if (this.settings.batchWaitMs > 0 && this.ready.length < this.settings.maxBatch) {
        // A batching output lets its batch fill a moment: per-send costs (a transaction, a flush) are
        // paid once per batch instead of once per alert when alerts trickle in.
        await sleep(this.settings.batchWaitMs, undefined, { signal: this.stop.signal }).catch(() => undefined);
      }
      try {
        await slots.acquire(this.stop.signal);
      } catch {
        return;
      }
      const batch = this.takeBatch();
      const wait = this.bucket?.reserve() ?? 0;
      if (wait > 0) await sleep(wait, undefined, { signal: this.stop.signal }).catch(() => undefined);
      const p = this.send(batch).finally(() => this.sends.delete(p));
      this.sends.add(p);
    }
  }

  private takeBatch(): Item[] {
    const first = this.ready.shift()!;
    if (first.alone || this.settings.maxBatch <= 1) return [first];
    // One pass that keeps what stays behind: a splice per taken alert moved the whole ready list each time
    // (a batch of 1,000 from 1,000 ready was ~500,000 element moves).
    const batch = [first];
    let kept = 0;
    let i = 0;
    for (; i < this.ready.length && batch.length < this.settings.maxBatch; i++) {
      const it = this.ready[i]!;
      if (it.alone) this.ready[kept++] = it;
      else batch.push(it);
    }
    if (kept < i) this.ready.splice(kept, i - kept);
    return batch;
  }

  private async send(batch: Item[]): Promise<void> {
    const start = performance.now();
    // One controller and one cleared timer per send. AbortSignal.timeout() + AbortSignal.any() left a
    // timer behind every send that fired timeoutMs later, building a DOMException and running the
    // composite signal's abort steps for a send long finished (~2-3 % of CPU at 1000 alerts/s).
    const ctl = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; ctl.abort(new DeliveryError('send timed out', { retryable: true })); }, this.settings.timeoutMs);
    const onStop = () => ctl.abort(this.stop.signal.reason);
    this.stop.signal.addEventListener('abort', onStop, { once: true });
    try {
      await this.sender.send(batch.map((it) => it.alert), ctl.signal);
    } catch (err) {
      return this.failed(batch, err, performance.now() - start, timedOut);
    } finally {
      clearTimeout(timer);
      this.stop.signal.removeEventListener('abort', onStop);
    }
    this.deps.slots.release({ ok: true, latencyMs: performance.now() - start });
    this.lastFailure = undefined;
    const now = Date.now();
    for (const it of batch) {
      this.bound.latency.observe(Math.max(0, now - it.acceptedAt) / 1000);
      this.finish(it);
    }
    this.bound.sent.inc(batch.length);
    // Falcosidekick counts alerts, not sends: a batch of 100 is 100.
    this.bound.ok.inc(batch.length);
    this.advance();
  }

  private failed(batch: Item[], err: unknown, latencyMs: number, timedOut: boolean): void {
    const de = err instanceof DeliveryError ? err : undefined;
    const backpressure = timedOut || de?.status === 429 || de?.status === 503;
    this.deps.slots.release({ ok: false, latencyMs, backpressure });
    this.deps.metrics.outputs.inc({ destination: this.type, status: 'error' }, batch.length);
    this.lastFailure = { at: Date.now(), error: redactText(errText(err)) };
    if (this.stop.signal.aborted) return; // shutting down: the alerts stay in the spool
    // Outputs wrap every transport failure in DeliveryError; anything else (a serializer throwing on
    // this alert) would fail the same way again, so it is not retried.
    const retryable = timedOut || (de?.retryable ?? false);
    if (!retryable) {
      if (batch.length > 1) {
        // Which alert caused it is unknown: each is tried alone, without counting an attempt.
        for (const it of batch) {
          it.alone = true;
          this.makeReady(it);
        }
        return;
      }
      void this.giveUp(batch, err);
      return;
    }
    const delay = de?.retryAfterMs;
    const expired: Item[] = [];
    for (const it of batch) {
      it.attempts++;
      if (it.attempts > this.settings.maxRetries) {
        expired.push(it);
        continue;
      }
      this.deps.metrics.retries.inc(this.labels);
      const ms = delay ?? backoffDelay(this.settings, it.attempts - 1);
      it.timer = setTimeout(() => {
        this.sleeping.delete(it);
        this.makeReady(it);
      }, ms);
      it.timer.unref();
      this.sleeping.add(it);
    }
    if (expired.length > 0) void this.giveUp(expired, err);
    if (expired.length < batch.length) {
      this.deps.notices.note(`retry:${this.name}`, 'warn', 'sends failed; each alert is retried on its own backoff',
        { output: this.name, err: errText(err), waiting: this.sleeping.size }, batch.length - expired.length);
    }
  }

  private async giveUp(items: Item[], err: unknown, raw?: string): Promise<void> {
    // Dead letters are read back by people (`peregrine deadletter list`): no credentials from URLs in them.
    const error = redactText(errText(err));
    for (const it of items) {
      try {
        await this.deps.deadLetter({ output: this.name, type: this.type, error, attempts: it.attempts + 1, alert: raw ?? it.alert, acceptedAt: it.acceptedAt });
      } catch (dlErr) {
        this.deps.notices.note('deadletter-write', 'error', 'cannot write the dead-letter log; these alerts are lost', { err: errText(dlErr), uuid: it.alert?.uuid });
      }
      this.finish(it);
    }
    this.deps.metrics.alerts.inc({ ...this.labels, result: 'failed' }, items.length);
    this.deps.metrics.deadLetters.inc(this.labels, items.length);
    this.deps.notices.note(`deadletter:${this.name}`, 'error', 'delivery failed; alerts moved to the dead-letter log (peregrine deadletter list)',
      { output: this.name, err: error, rule: items.at(-1)?.alert?.rule }, items.length);
    this.advance();
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
