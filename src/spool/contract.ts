import type { Logger } from '../log.ts';

/**
 * The spool: a durable, bounded, append-only log between the inputs and the outputs.
 *
 * Every accepted alert is appended once; each consumer (an output instance, the dead-letter replay)
 * reads the log from its own persisted cursor and acknowledges what it is done with. A backend keeps
 * this contract; the file backend (src/spool/file/) is the embedded default.
 */
export interface Spool {
  /**
   * Appends one record. Resolves with its sequence number once the record is as durable as `fsync`
   * promises (group commit: concurrent appends share one write and one sync). Rejects with
   * SpoolFullError when the byte bound is reached and `whenFull` is `reject`. `memo` is handed to readers
   * with the entry while it is still in memory, so they need not decode the payload again.
   */
  append(payload: Buffer, memo?: unknown): Promise<number>;
  /** The reader of a consumer named at open; one reader per consumer. */
  reader(consumer: string): SpoolReader;
  stats(): SpoolStats;
  /** Finishes pending appends, persists the cursors, releases the directory. */
  close(): Promise<void>;
}

export interface SpoolEntry {
  /** Position in the log: increasing by one per record, never reused. */
  seq: number;
  /** Wall-clock ms when the record was appended. */
  appendedAt: number;
  payload: Buffer;
  /** What the appender passed along (its decoded form); absent for entries read back from disk. Read-only. */
  memo?: unknown;
}

export interface SpoolReader {
  readonly consumer: string;
  /**
   * The next records after the last one handed out (at most `max`, in order). Waits until at least one is
   * there; resolves [] once the spool closes or `signal` aborts. Starts at the persisted cursor, so
   * records handed out but never acknowledged before a crash are read again (at least once).
   */
  next(max: number, signal?: AbortSignal): Promise<SpoolEntry[]>;
  /**
   * Every record with seq < upTo is done: the cursor moves there (never backwards) and is persisted soon.
   * `doneAbove` (kept by reference, read when the cursor is saved) lists records after the cursor that are
   * done already (delivered out of order); after a restart the reader skips them instead of handing them out again.
   */
  ack(upTo: number, doneAbove?: ReadonlySet<number>): void;
  /** Seq of the first record not yet acknowledged. */
  readonly cursor: number;
  /** Records from the cursor on (handed out but not acknowledged included). */
  readonly pending: number;
  /** Records skipped since open because they were saved as done before a restart (duplicates avoided). */
  readonly skippedAsDone: number;
}

export interface SpoolStats {
  /** Bytes the log occupies (records waiting for the next write included). */
  bytes: number;
  maxBytes: number;
  /** Records kept (from the oldest retained one to the newest). */
  records: number;
  segments: number;
  /** Records dropped to make room (`whenFull: drop_oldest`) that some consumer had not passed. */
  dropped: number;
  /** Appends refused because the log was full (`whenFull: reject`). */
  rejected: number;
  /**
   * Per consumer: its cursor, how many records from it on are not acknowledged yet, and when the oldest of
   * them was appended (ms; exact while it is in memory, else the time of its segment's first record).
   */
  consumers: Record<string, { cursor: number; pending: number; oldestAppendedAt?: number }>;
}

export type FsyncPolicy = 'always' | 'interval' | 'never';
export type WhenFull = 'reject' | 'drop_oldest';

export interface SpoolOptions {
  dir: string;
  /**
   * always: an append resolves once its group commit is written and fdatasync'd (survives a machine crash);
   * interval: once written (survives a crash of this process), synced at most `fsyncMs` later (a machine
   * crash loses at most that window); never: once written, syncing left to the OS.
   */
  fsync: FsyncPolicy;
  fsyncMs: number;
  maxBytes: number;
  whenFull: WhenFull;
  /** Consumers that read this log; cursors of others found on disk are forgotten (logged). */
  consumers: readonly string[];
  log?: Logger;
  /** Backend tuning (tests use small values). */
  segmentBytes?: number;
  /** Bytes of recent records kept in memory so readers that keep up never touch the disk. */
  windowBytes?: number;
  /** A write slower than this (ms) sends writes through the I/O thread pool for a while (tests use -1: every write is). */
  slowWriteMs?: number;
}

/** A storage implementation of the contract, chosen by `spool.type`. */
export interface SpoolBackend {
  readonly type: string;
  open(opts: SpoolOptions): Promise<Spool>;
}

export class SpoolFullError extends Error {
  constructor(bytes: number, maxBytes: number) {
    super(`spool is full (${bytes} of ${maxBytes} bytes): alerts are refused until outputs catch up`);
    this.name = 'SpoolFullError';
  }
}
