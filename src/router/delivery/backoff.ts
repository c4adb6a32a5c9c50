export interface RetryPolicy {
  /** Attempts after the first; 0 disables retries. */
  maxRetries: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

/** Exponential backoff with full jitter: a random wait in [base/2, base], base doubling per attempt. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** attempt);
  return Math.round(base / 2 + (random() * base) / 2);
}
