import type { z } from 'zod';
import type { FalcoAlert } from '../alert/alert.ts';
import type { Logger } from '../log.ts';

/**
 * The contract between the router and one output module in outputs/.
 *
 * An output module only knows how to turn alerts into its destination's wire format and send them.
 * Queueing, retries with backoff, rate limits, timeouts, filtering, enrichment and metrics belong to
 * the router's delivery layer and are never written in an output.
 */
export interface OutputDefinition<S extends z.ZodType = z.ZodType> {
  /** Type name: used in `outputs[].type`, metrics labels and logs (e.g. "slack", "awssns"). */
  readonly type: string;
  /**
   * Where Falcosidekick keeps this output's keys in its YAML, e.g. ["slack"] or ["aws", "sns"].
   * Env overrides derive from it: slack.webhookurl -> SLACK_WEBHOOKURL.
   */
  readonly configPath: readonly string[];
  /**
   * Keys that live on the parent of configPath, shared with sibling outputs (Falcosidekick's aws.region
   * for aws.sns, aws.sqs …). They are validated there and merged into the config this output receives;
   * a named instance may also set them in its own block.
   */
  readonly parentKeys?: z.ZodRawShape;
  /** This output's own keys, with defaults; validated at start, errors name the key path. */
  readonly schema: S;
  /** Falcosidekick's enabling rule for the legacy top-level block (e.g. webhookurl non-empty). */
  isEnabled(config: z.output<S>): boolean;
  /** Per-output delivery defaults the user may override (Slack: 1 msg/s). */
  readonly delivery?: Partial<DeliveryTuning>;
  /**
   * The same config aimed at `url`, a plain-HTTP server on loopback that the start-up warm-up runs and
   * answers 200 (src/router/warm-up/). Only outputs that send over HTTP can offer it; the others are not warmed.
   */
  warmUpAt?(config: z.output<S>, url: string): z.output<S>;
  /**
   * The output presents a client certificate (ctx.clientCert) when its block sets `mutualtls: true`, as
   * Falcosidekick's HTTP outputs do; for the others `mutualtls: true` stops the start naming the key.
   */
  readonly mutualTls?: boolean;
  /** Builds the sender; may connect. A failure here disables this output only, with a clear error. */
  create(config: z.output<S>, ctx: OutputContext): Sender | Promise<Sender>;
}

export interface DeliveryTuning {
  /** Alerts handed to one send() call; >1 lets brokers batch. */
  maxBatch: number;
  /** With maxBatch > 1: how long a send waits for more alerts when fewer than maxBatch are ready (0 = never). */
  batchWaitMs: number;
  /** Sends in flight at once for this output instance (with `adaptive`, the most the controller may allow). */
  concurrency: number;
  /** Let AIMD find the concurrency from latency and errors (HTTP outputs), capped by maxconcurrentrequests. */
  adaptive: boolean;
  /** Sustained sends per second (token bucket); 0 = unlimited. */
  ratePerSecond: number;
  /** Timeout of one send() in ms. */
  timeoutMs: number;
}

export interface OutputContext {
  /** Instance name, e.g. "slack" for the legacy block or "slack-critical" for a named instance. */
  readonly name: string;
  readonly log: Logger;
  /** tlsclient.cacertfile: CAs every HTTP output trusts besides the system ones ("" = none). */
  readonly clientCaFile?: string;
  /** Set when the output's block says `mutualtls: true`: the certificate to present and the CA to trust. */
  readonly clientCert?: ClientCertificate;
}

/** Falcosidekick's mutual-TLS client files, read at start (src/router/mutual-tls.ts). */
export interface ClientCertificate {
  cert: Buffer;
  key: Buffer;
  /** CA the destination's certificate must chain to, trusted besides the system ones. */
  ca: Buffer;
}

export interface Sender {
  /**
   * Delivers alerts (already filtered and enriched). Resolves when the destination acknowledged them.
   * Throw DeliveryError to say whether a retry may help. Any other error (a serializer throwing on this
   * alert) is taken as one a retry cannot fix: the alert goes to the dead-letter log at once.
   * Must stop promptly when `signal` aborts (timeout or shutdown).
   */
  send(alerts: readonly FalcoAlert[], signal: AbortSignal): Promise<void>;
  /** Releases connections on shutdown. */
  close?(): Promise<void>;
}

/** A failed delivery, as the output judged it. */
export class DeliveryError extends Error {
  readonly retryable: boolean;
  /** The destination asked to wait this long (HTTP 429 Retry-After). */
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;
  constructor(message: string, opts: { retryable: boolean; retryAfterMs?: number; status?: number; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = 'DeliveryError';
    this.retryable = opts.retryable;
    this.retryAfterMs = opts.retryAfterMs;
    this.status = opts.status;
  }
}

/** Identity helper that keeps the schema's type flowing into isEnabled/create. */
export function defineOutput<S extends z.ZodType>(def: OutputDefinition<S>): OutputDefinition<S> {
  return def;
}

/**
 * Races a client call that takes no AbortSignal against the delivery layer's signal, so a send
 * that hangs (a broker that never answers) still ends at its timeout as a retryable failure.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DeliveryError(`${what}: send timed out or was cancelled`, { retryable: true }));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
