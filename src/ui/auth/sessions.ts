import { randomBytes } from 'node:crypto';

/** Logged-in browser sessions, in memory (a restart logs everyone out), each expiring on its own. */
export class Sessions {
  private readonly byToken = new Map<string, { user: string; expires: number }>();
  private readonly ttlMs: number;
  constructor(ttlMs: number) { this.ttlMs = ttlMs; }

  create(user: string): string {
    this.sweep();
    const token = randomBytes(32).toString('base64url');
    this.byToken.set(token, { user, expires: Date.now() + this.ttlMs });
    return token;
  }

  user(token: string | undefined): string | undefined {
    if (!token) return undefined;
    const s = this.byToken.get(token);
    if (!s) return undefined;
    if (s.expires < Date.now()) {
      this.byToken.delete(token);
      return undefined;
    }
    return s.user;
  }

  end(token: string | undefined): void {
    if (token) this.byToken.delete(token);
  }

  get ttlSeconds(): number { return Math.floor(this.ttlMs / 1000); }

  private sweep(): void {
    const now = Date.now();
    for (const [t, s] of this.byToken) if (s.expires < now) this.byToken.delete(t);
  }
}

/** Failed logins per client address: after 10 in a minute, further attempts wait for the minute to pass. */
export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();
  blocked(addr: string): boolean {
    const f = this.failures.get(addr);
    if (!f) return false;
    if (Date.now() - f.since > 60_000) {
      this.failures.delete(addr);
      return false;
    }
    return f.count >= 10;
  }
  fail(addr: string): void {
    const f = this.failures.get(addr);
    if (!f || Date.now() - f.since > 60_000) this.failures.set(addr, { count: 1, since: Date.now() });
    else f.count++;
    if (this.failures.size > 10_000) this.failures.clear();
  }
  succeed(addr: string): void { this.failures.delete(addr); }
}
