import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AdaptiveConcurrency } from '../../src/router/delivery/adaptive-concurrency.ts';

/** A controllable clock: the controller's windows follow it, so every trajectory below is exact. */
function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

/** Fills every free slot (acquire resolves synchronously-in-effect when a slot is free). */
function fill(ac: AdaptiveConcurrency): number {
  let n = 0;
  while (ac.inFlight < ac.limit) { void ac.acquire(); n++; }
  return n;
}

/**
 * One round: use the whole limit, let `latencyMs` pass, complete every send with the same outcome.
 * A window is judged at the first completion after its end, so the limit returned after round k
 * reflects the sends of round k-1 (round k's own are judged when round k+1 completes).
 */
function round(ac: AdaptiveConcurrency, c: ReturnType<typeof clock>, latencyMs: number, outcome: { ok: boolean; backpressure?: boolean } = { ok: true }): number {
  fill(ac);
  c.advance(latencyMs);
  while (ac.inFlight > 0) ac.release({ ...outcome, latencyMs });
  return ac.limit;
}

describe('AdaptiveConcurrency: AIMD trajectory', () => {
  test('steady latency with the limit in use: +1 per observation window, up to max and never above', () => {
    const c = clock();
    const ac = new AdaptiveConcurrency({ max: 6, now: c.now });
    const trajectory = [ac.limit];
    for (let i = 0; i < 10; i++) trajectory.push(round(ac, c, 10));
    // Rounds 1-2 set the RTT baseline; from then on each window grows the limit by one until max.
    assert.deepEqual(trajectory, [1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 6]);
  });

  test('no increase while the limit is not used (no evidence the destination takes more)', () => {
    const c = clock();
    const ac = new AdaptiveConcurrency({ max: 10, initial: 4, now: c.now });
    for (let i = 0; i < 20; i++) {
      void ac.acquire();
      c.advance(10);
      ac.release({ ok: true, latencyMs: 10 });
    }
    assert.equal(ac.limit, 4);
  });

  test('back pressure decreases multiplicatively (x0.9, at least -1) down to min', () => {
    const c = clock();
    const ac = new AdaptiveConcurrency({ max: 100, initial: 40, min: 3, now: c.now });
    round(ac, c, 10);
    round(ac, c, 10); // baseline
    const trajectory = [ac.limit];
    for (let i = 0; i < 15; i++) trajectory.push(round(ac, c, 10, { ok: false, backpressure: true }));
    // (the last baseline round used the whole limit at a steady RTT: +1 before the failures count)
    assert.deepEqual(trajectory, [40, 41, 36, 32, 28, 25, 22, 19, 17, 15, 13, 11, 9, 8, 7, 6]);
    for (let i = 0; i < 10; i++) round(ac, c, 10, { ok: false, backpressure: true });
    assert.equal(ac.limit, 3, 'never below min');
  });

  test('a plain failure (ok=false) also decreases; recovery is additive afterwards', () => {
    const c = clock();
    const ac = new AdaptiveConcurrency({ max: 50, initial: 20, now: c.now });
    round(ac, c, 10);
    round(ac, c, 10);
    round(ac, c, 10, { ok: false });
    assert.deepEqual([round(ac, c, 10), round(ac, c, 10), round(ac, c, 10)], [18, 19, 20]);
  });

  test('failures before any latency baseline shrink the limit once per window, not once per send', () => {
    const c = clock();
    const ac = new AdaptiveConcurrency({ max: 50, initial: 20, now: c.now });
    round(ac, c, 10, { ok: false, backpressure: true });
    assert.deepEqual([round(ac, c, 10, { ok: false, backpressure: true }), round(ac, c, 10, { ok: false, backpressure: true })], [18, 16]);
  });

  test('latency rising beyond the deviation threshold decreases; latency within it holds the limit', () => {
    const c = clock();
    const ac = new AdaptiveConcurrency({ max: 10, initial: 10, now: c.now });
    // Baseline with some spread: alternating 10 and 12 ms keeps a non-zero deviation.
    for (let i = 0; i < 12; i++) round(ac, c, i % 2 === 0 ? 10 : 12);
    round(ac, c, ac.rttMs!);
    round(ac, c, ac.rttMs!);
    assert.equal(ac.limit, 10);
    const mean = ac.rttMs!;
    // Slightly above the mean but inside 2.5 deviations and far from a queue: neither up nor down.
    round(ac, c, mean + 0.3);
    assert.equal(round(ac, c, mean + 0.3), 10);
    // Far above: the destination is queueing.
    round(ac, c, mean * 3);
    assert.equal(round(ac, c, mean * 3), 9);
  });

  test('fixed concurrency (min = max) never moves, whatever the outcomes', () => {
    const c = clock();
    const ac = new AdaptiveConcurrency({ min: 4, max: 4, now: c.now });
    assert.ok(ac.fixed);
    for (let i = 0; i < 5; i++) round(ac, c, 10, { ok: false, backpressure: true });
    for (let i = 0; i < 5; i++) round(ac, c, i * 50 + 1);
    assert.equal(ac.limit, 4);
  });

  test('initial is clamped to [min, max]; max below min is refused', () => {
    assert.equal(new AdaptiveConcurrency({ max: 5, initial: 50 }).limit, 5);
    assert.equal(new AdaptiveConcurrency({ max: 5, min: 2, initial: 0 }).limit, 2);
    assert.throws(() => new AdaptiveConcurrency({ max: 1, min: 2 }), /max \(1\) must be >= min \(2\)/);
  });
});

describe('AdaptiveConcurrency: slots', () => {
  test('acquire waits while inFlight = limit and wakes waiters in order on release', async () => {
    const ac = new AdaptiveConcurrency({ min: 2, max: 2 });
    await ac.acquire();
    await ac.acquire();
    const order: number[] = [];
    const a = ac.acquire().then(() => order.push(1));
    const b = ac.acquire().then(() => order.push(2));
    await Promise.resolve();
    assert.deepEqual(order, []);
    assert.equal(ac.inFlight, 2);
    ac.release({ ok: true, latencyMs: 1 });
    await a;
    assert.deepEqual(order, [1]);
    ac.release({ ok: true, latencyMs: 1 });
    await b;
    assert.deepEqual(order, [1, 2]);
    assert.equal(ac.inFlight, 2);
  });

  test('an aborted acquire rejects with the reason and does not take a slot', async () => {
    const ac = new AdaptiveConcurrency({ min: 1, max: 1 });
    await ac.acquire();
    const ctl = new AbortController();
    const waiting = ac.acquire(ctl.signal);
    ctl.abort(new Error('shutting down'));
    await assert.rejects(waiting, /shutting down/);
    ac.release({ ok: true, latencyMs: 1 });
    assert.equal(ac.inFlight, 0, 'the aborted waiter was not handed the freed slot');
    await assert.rejects(ac.acquire(AbortSignal.abort(new Error('already'))), /already/);
  });

  test('release without acquire is a bug and says so', () => {
    assert.throws(() => new AdaptiveConcurrency({ max: 3 }).release({ ok: true, latencyMs: 1 }), /release\(\) without acquire\(\)/);
  });
});

describe('AdaptiveConcurrency against a simulated destination with a knee', () => {
  /**
   * Discrete-event simulation: the destination serves `knee` requests in parallel at `baseMs` each;
   * beyond that, requests share it, so latency grows with the in-flight count (processor sharing).
   * The sender always has work. Deterministic jitter (an LCG) adds +-5 % noise. From completion
   * `slowFrom` on, the destination is 3x slower whatever the load (a slower path, not our queue).
   */
  function simulate(knee: number, max: number, completions: number, slowFrom = Infinity) {
    const c = clock();
    const ac = new AdaptiveConcurrency({ max, now: c.now });
    let seed = 42;
    const jitter = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return 0.95 + (seed / 2 ** 31) * 0.1; };
    const pending: { done: number; started: number }[] = [];
    const limits: number[] = [];
    let peak = 0;
    for (let i = 0; i < completions; i++) {
      const baseMs = i >= slowFrom ? 30 : 10;
      while (ac.inFlight < ac.limit) {
        void ac.acquire();
        pending.push({ started: c.now(), done: c.now() + baseMs * Math.max(1, ac.inFlight / knee) * jitter() });
      }
      peak = Math.max(peak, ac.limit);
      pending.sort((x, y) => x.done - y.done);
      const next = pending.shift()!;
      c.advance(next.done - c.now());
      ac.release({ ok: true, latencyMs: next.done - next.started });
      limits.push(ac.limit);
    }
    const tail = limits.slice(-Math.floor(completions / 4));
    return { mean: tail.reduce((a, b) => a + b, 0) / tail.length, lo: Math.min(...tail), hi: Math.max(...tail), peak };
  }

  // Near = between 75 % of the knee and the queue tolerance above it (20 %, at least 2 sends).
  for (const knee of [4, 16, 40]) {
    test(`settles near a knee of ${knee}`, () => {
      const r = simulate(knee, 200, 1200 * knee);
      assert.ok(r.mean >= knee * 0.75 && r.mean <= knee * 1.25 + 2, `mean limit ${r.mean.toFixed(1)} (range ${r.lo}-${r.hi}) not near ${knee}`);
    });
  }

  test('a destination that gets slower for good (not from our load) does not pin the limit low', () => {
    const r = simulate(16, 200, 40000, 20000);
    assert.ok(r.mean >= 16 * 0.75 && r.mean <= 16 * 1.25 + 2, `mean limit ${r.mean.toFixed(1)} (range ${r.lo}-${r.hi}) not near 16`);
  });

  test('max caps the limit below the knee', () => {
    const r = simulate(40, 8, 4000);
    assert.equal(r.peak, 8);
    assert.ok(r.mean > 7.5, `mean limit ${r.mean}`);
  });
});
