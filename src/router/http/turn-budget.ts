/**
 * Shares the event loop between input and delivery: while `contended()` says outputs are sending or
 * have alerts ready, at most `perTurn` input requests are accepted per event-loop turn; the others wait
 * for a later turn (setImmediate).
 *
 * Why: input and delivery run on one event loop. Under an input flood each turn's poll phase handled
 * dozens of input requests beside one reply from a destination, so an output with one request in flight
 * got one round trip per long turn: in a profile of a flat-out run, 3-6 % of the alerts accepted during
 * the load were delivered during it. Clients send their next request only after our answer, so holding
 * answers beyond the budget bounds the input work of every turn; turns stay short and delivery gets its
 * round trips (33-40 % with a budget of 1 before the spool; the router uses 16, see router.ts). When no
 * output has work for the loop (idle, or only alerts waiting out a backoff) nothing waits.
 */
export class TurnBudget {
  private used = 0;
  private scheduled = false;
  private readonly waiters: (() => void)[] = [];
  private readonly perTurn: number;
  private readonly contended: () => boolean;

  constructor(perTurn: number, contended: () => boolean) {
    if (!(perTurn >= 1)) throw new RangeError(`TurnBudget: perTurn must be >= 1 (got ${perTurn})`);
    this.perTurn = perTurn;
    this.contended = contended;
  }

  /** undefined when the caller may go on in this turn; else a promise that resolves in a later turn. */
  take(): Promise<void> | undefined {
    if (this.waiters.length === 0) {
      if (!this.contended()) return undefined;
      if (this.used < this.perTurn) {
        this.used++;
        this.schedule();
        return undefined;
      }
    }
    this.schedule();
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Requests waiting for a later turn (for tests and metrics). */
  get waiting(): number { return this.waiters.length; }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.nextTurn);
  }

  private readonly nextTurn = (): void => {
    this.scheduled = false;
    this.used = 0;
    // Once the backlog is gone, everyone waiting may go at once.
    const n = this.contended() ? Math.min(this.perTurn, this.waiters.length) : this.waiters.length;
    for (let i = 0; i < n; i++) this.waiters.shift()!();
    this.used = Math.min(n, this.perTurn);
    // Those let through now count against the next turn as well: reset again then.
    if (this.used > 0 || this.waiters.length > 0) this.schedule();
  };
}
