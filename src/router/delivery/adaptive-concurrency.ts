/**
 * How many sends one output may have in flight, adjusted by AIMD from what the destination tells us
 * (the scheme of Vector's adaptive request concurrency, itself modelled on TCP congestion control):
 *
 * - Time is cut into observation windows, each as long as the smoothed round-trip time. A window is
 *   judged at the first completion after its end, from the sends that completed inside it.
 * - The window's mean RTT is compared with an exponentially weighted mean (and deviation) of the
 *   previous windows, and with the lowest window RTT seen (the no-load RTT).
 * - Additive increase: +1 when the window saw the limit actually used (a send filled the last slot),
 *   no failure or back pressure, and an RTT no higher than the weighted mean. Without "limit used" an
 *   idle output would grow its limit on evidence it never gathered.
 * - Multiplicative decrease: limit x decreaseRatio (at least -1) when the window saw a failure or back
 *   pressure (429, 503, timeout), an RTT above the weighted mean by more than rttDeviationScale
 *   deviations (Vector's test), or more of our sends queued at the destination than queueTolerance
 *   allows. The last test is ours: comparing only with a recent mean lets the limit creep upwards in
 *   steps too small to stand out of the noise; the queue estimate (TCP Vegas':
 *   limit x (1 - noLoadRtt / rtt)) sees the accumulated rise. The no-load RTT is the lowest window
 *   RTT seen; when a queue-driven decrease does not lower the RTT three windows later, the latency was
 *   not ours (the destination got slower for good) and the no-load RTT is re-based on it.
 *
 * With min = max the limit is fixed: the same class gives non-adaptive outputs a plain semaphore.
 */
export interface AdaptiveConcurrencyOptions {
  /** Upper bound (Falcosidekick's maxconcurrentrequests when set); Infinity = no bound. */
  max: number;
  /** Lower bound, 1 by default. */
  min?: number;
  /** Starting limit, `min` by default (Vector starts at 1 as well). */
  initial?: number;
  /** Factor applied on a decrease; Vector's default 0.9. */
  decreaseRatio?: number;
  /** Weight of the newest window in the long-run RTT mean; Vector's default 0.4. */
  ewmaAlpha?: number;
  /** How many standard deviations above the long-run mean count as "RTT rising"; Vector's default 2.5. */
  rttDeviationScale?: number;
  /**
   * Sends queued at the destination tolerated before decreasing, as a fraction of the limit (at least
   * 2 sends); 0.2 by default.
   */
  queueTolerance?: number;
  /** Clock in ms; injectable so tests are deterministic. */
  now?: () => number;
}

export interface SendOutcome {
  ok: boolean;
  latencyMs: number;
  /** The destination asked us to slow down: 429, 503, or the send timed out. */
  backpressure?: boolean;
}

interface Waiter { resolve: () => void; reject: (err: unknown) => void; signal: AbortSignal | undefined; onAbort: () => void }

export class AdaptiveConcurrency {
  private current: number;
  private running = 0;
  private readonly min: number;
  private readonly max: number;
  private readonly decreaseRatio: number;
  private readonly alpha: number;
  private readonly deviationScale: number;
  private readonly queueTolerance: number;
  private readonly now: () => number;
  private readonly waiters: Waiter[] = [];

  // Long-run RTT: exponentially weighted mean and variance over past windows (undefined before the first).
  private rttMean: number | undefined;
  private rttVariance = 0;
  private noLoadRtt: number | undefined;
  // After a queue-driven decrease: the highest RTT around it, compared with the RTT three windows later.
  private probe: { rtt: number; windowsLeft: number } | undefined;
  // The window being observed.
  private windowEnd = -Infinity;
  private windowRttSum = 0;
  private windowRttCount = 0;
  private windowCongested = false;
  private windowReachedLimit = false;

  constructor(opts: AdaptiveConcurrencyOptions) {
    this.min = Math.max(1, opts.min ?? 1);
    if (!(opts.max >= this.min)) throw new RangeError(`adaptive concurrency: max (${opts.max}) must be >= min (${this.min})`);
    this.max = opts.max;
    this.current = clamp(opts.initial ?? this.min, this.min, this.max);
    this.decreaseRatio = opts.decreaseRatio ?? 0.9;
    this.alpha = opts.ewmaAlpha ?? 0.4;
    this.deviationScale = opts.rttDeviationScale ?? 2.5;
    this.queueTolerance = opts.queueTolerance ?? 0.2;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Current allowed in-flight sends. */
  get limit(): number { return this.current; }
  get inFlight(): number { return this.running; }
  /** Smoothed RTT in ms (undefined before the first successful send): for metrics and logs. */
  get rttMs(): number | undefined { return this.rttMean; }
  /** True when the limit can never move (min = max). */
  get fixed(): boolean { return this.min === this.max; }

  /** Resolves when a slot is free (inFlight < limit); rejects with the signal's reason if it aborts first. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.running < this.current && this.waiters.length === 0) {
      this.take();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve, reject, signal,
        onAbort: () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal!.reason);
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Frees the slot taken by acquire() and feeds the outcome to the controller. */
  release(outcome: SendOutcome): void {
    if (this.running === 0) throw new Error('adaptive concurrency: release() without acquire()');
    this.running--;
    if (!this.fixed) this.observe(outcome);
    this.wake();
  }

  private take(): void {
    this.running++;
    if (this.running >= this.current) this.windowReachedLimit = true;
  }

  private wake(): void {
    while (this.running < this.current && this.waiters.length > 0) {
      const w = this.waiters.shift()!;
      w.signal?.removeEventListener('abort', w.onAbort);
      this.take();
      w.resolve();
    }
  }

  private observe(outcome: SendOutcome): void {
    const t = this.now();
    if (t >= this.windowEnd) this.closeWindow(t, outcome.latencyMs);
    // Only a send the destination processed measures its latency; a failure's duration says nothing.
    if (outcome.ok && !outcome.backpressure) {
      this.windowRttSum += outcome.latencyMs;
      this.windowRttCount++;
    } else {
      this.windowCongested = true;
    }
  }

  private closeWindow(t: number, latencyMs: number): void {
    const windowRtt = this.windowRttCount > 0 ? this.windowRttSum / this.windowRttCount : undefined;
    if (this.rttMean !== undefined) this.adjust(windowRtt);
    else if (this.windowCongested) this.decrease(); // failures before any baseline still count
    if (windowRtt !== undefined) this.updateLongRun(windowRtt);
    // Until a first RTT is known, the completing send's duration sizes the window.
    this.windowEnd = t + (this.rttMean ?? latencyMs);
    this.windowRttSum = 0;
    this.windowRttCount = 0;
    this.windowCongested = false;
    this.windowReachedLimit = this.running >= this.current;
  }

  private adjust(windowRtt: number | undefined): void {
    if (this.windowCongested) return this.decrease();
    if (windowRtt === undefined) return;
    const mean = this.rttMean!;
    const rising = windowRtt > mean + Math.sqrt(this.rttVariance) * this.deviationScale;
    if (rising) return this.decrease();
    if (this.probe) {
      // The next windows judge sends started before the decrease: they count as "before" too.
      if (--this.probe.windowsLeft > 0) {
        this.probe.rtt = Math.max(this.probe.rtt, windowRtt);
        return;
      }
      const ours = windowRtt < this.probe.rtt * (1 - (1 - this.decreaseRatio) / 2);
      if (!ours) this.noLoadRtt = windowRtt;
      this.probe = undefined;
      if (!ours) return;
    }
    const queued = this.current * (1 - this.noLoadRtt! / windowRtt);
    if (queued > Math.max(2, this.current * this.queueTolerance)) {
      this.probe = { rtt: windowRtt, windowsLeft: 3 };
      return this.decrease();
    }
    if (this.windowReachedLimit && windowRtt <= mean && this.current < this.max) this.current++;
  }

  private decrease(): void {
    const next = Math.min(this.current - 1, Math.floor(this.current * this.decreaseRatio));
    this.current = Math.max(this.min, next);
  }

  // Exponentially weighted mean and variance, updated incrementally (West's / Finch's formula).
  private updateLongRun(sample: number): void {
    if (this.rttMean === undefined) {
      this.rttMean = sample;
      this.noLoadRtt = sample;
      return;
    }
    const diff = sample - this.rttMean;
    const step = this.alpha * diff;
    this.rttMean += step;
    this.rttVariance = (1 - this.alpha) * (this.rttVariance + diff * step);
    this.noLoadRtt = Math.min(sample, this.noLoadRtt!);
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
