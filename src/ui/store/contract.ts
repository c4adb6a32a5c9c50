import type { FalcoAlert } from '../../alert/alert.ts';
import type { Priority } from '../../alert/priority.ts';

/**
 * The UI's alert store: what the `ui` output writes and what /api/v1 reads. The SQLite implementation
 * lives beside this file; the API and the output only know this contract.
 */
export interface AlertStore {
  /** Stores alerts in one transaction; resolves once they are durable. */
  insert(alerts: readonly FalcoAlert[]): void;
  /** One page, newest first (by alert time, then arrival). */
  list(query: AlertQuery): AlertPage;
  get(id: number): StoredAlert | undefined;
  /** Alert counts per value of one dimension, highest first. */
  counts(query: AlertQuery, by: CountDimension, limit?: number): { value: string; count: number }[];
  /** Alert counts per time bucket of `bucketMs` (aligned to the epoch), with a priority breakdown. */
  histogram(query: AlertQuery, bucketMs: number): HistogramBucket[];
  total(query: AlertQuery): number;
  /** Applies retention (age, size) now; also runs on a timer. Returns the alerts removed. */
  enforceRetention(): number;
  /** Bytes the database takes on disk (main file + WAL). */
  sizeBytes(): number;
  /** Called after each committed insert with the stored rows (live updates). */
  onInsert(listener: (alerts: readonly StoredAlert[]) => void): () => void;
  close(): void;
}

export type CountDimension = 'priority' | 'rule' | 'source' | 'hostname' | 'tag' | 'container';
export const COUNT_DIMENSIONS: readonly CountDimension[] = ['priority', 'rule', 'source', 'hostname', 'tag', 'container'];

/** A filter over stored alerts. Every list is "any of"; different keys combine with AND. */
export interface AlertFilter {
  priorities?: Priority[];
  rules?: string[];
  sources?: string[];
  hostnames?: string[];
  tags?: string[];
  containers?: string[];
  /** Alert time range in ms since the epoch: from inclusive, to exclusive. */
  from?: number;
  to?: number;
  /** Words that must all appear in the output or a field value (prefix match on the last one). */
  search?: string;
}

export interface AlertQuery extends AlertFilter {
  /** Opaque cursor from a previous page's `next`. */
  cursor?: string;
  limit?: number;
}

export interface StoredAlert extends FalcoAlert {
  /** Store id: increases with arrival. */
  id: number;
  /** Alert time in ms since the epoch (the exact text stays in `time`). */
  timeMs: number;
}

export interface AlertPage {
  alerts: StoredAlert[];
  /** Cursor of the next (older) page; absent on the last page. */
  next?: string;
}

export interface HistogramBucket {
  /** Bucket start, ms since the epoch. */
  t: number;
  total: number;
  byPriority: Partial<Record<Priority, number>>;
}

export interface StoreOptions {
  /** Database file; ":memory:" for a throwaway store. */
  file: string;
  /** Alerts older than this (ms, by alert time) are deleted; 0 keeps them. */
  retentionMs: number;
  /** Largest size of the database on disk in bytes; oldest alerts go first. 0 = no limit. */
  maxBytes: number;
  /** Now, for retention (tests). */
  now?: () => number;
}

/**
 * The store as the router's thread sees it: the same operations, answered by the thread that owns the
 * database (src/ui/store/threaded.ts), so SQLite's work never runs on the thread that takes alerts in.
 */
export interface AsyncAlertStore {
  insert(alerts: readonly FalcoAlert[]): Promise<void>;
  list(query: AlertQuery): Promise<AlertPage>;
  get(id: number): Promise<StoredAlert | undefined>;
  counts(query: AlertQuery, by: CountDimension, limit?: number): Promise<{ value: string; count: number }[]>;
  histogram(query: AlertQuery, bucketMs: number): Promise<HistogramBucket[]>;
  total(query: AlertQuery): Promise<number>;
  enforceRetention(): Promise<number>;
  sizeBytes(): Promise<number>;
  onInsert(listener: (alerts: readonly StoredAlert[]) => void): () => void;
  close(): Promise<void>;
}
