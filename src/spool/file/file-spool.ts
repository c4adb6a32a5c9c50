import { close, fdatasync, mkdirSync, open, read, unlink, write, writeFileSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { silentLogger, type Logger } from '../../log.ts';
import { ThrottledLog } from '../../throttled-log.ts';
import { SpoolFullError, type Spool, type SpoolEntry, type SpoolOptions, type SpoolReader, type SpoolStats } from '../contract.ts';
import { CursorFile } from './cursors.ts';
import { lockDir } from './lock.ts';
import { decodeRecord, encodeRecord, HEADER_BYTES } from './record.ts';
import { listSegments, recoverLastSegment, segmentPath, type Segment } from './segments.ts';

const openAsync = promisify(open);
const closeAsync = promisify(close);
const syncAsync = promisify(fdatasync);
const unlinkAsync = promisify(unlink);
const writeAsync = (fd: number, buf: Buffer, position: number) =>
  new Promise<number>((resolve, reject) => write(fd, buf, 0, buf.length, position, (err, n) => (err ? reject(err) : resolve(n))));
const readAsync = (fd: number, buf: Buffer, position: number) =>
  new Promise<number>((resolve, reject) => read(fd, buf, 0, buf.length, position, (err, n) => (err ? reject(err) : resolve(n))));

const CURSOR_SAVE_MS = 200;
/**
 * A group commit is written on the event loop's thread (into the page cache: tens of µs), not through libuv's
 * pool: the pool's round trip delayed every acknowledgement by a turn or more, and with a fixed number of
 * senders waiting for their 200 that capped input (bench/README.md, "The spool's write on the loop"). A
 * write slower than this means the disk is pushing back (writeback throttling, a slow or remote volume) or
 * the thread lost its core: writes then go through the pool for SLOW_DISK_BACKOFF_MS, so a stalling disk
 * holds the loop at most once per period. The period is short because a one-off slow write is common on a
 * loaded machine (28 ms once in a 20 s flat-out run) and the pool costs input meanwhile.
 */
const SLOW_WRITE_MS = 20;
const SLOW_DISK_BACKOFF_MS = 2_000;
/** At most one log line per this period about slow writes, then one with how many there were. */
const SLOW_DISK_LOG_MS = 60_000;
const READ_CHUNK = 256 * 1024;
/**
 * Payload bytes of the newest records kept in memory for readers close to the end. Each kept record
 * also holds its decoded alert (the memo), several times the payload's size in heap: at 8 MiB the
 * window held ~100 MiB under load (bench/router.ts paced5000 peak RSS 397 MiB, 299 MiB at 1 MiB,
 * alerts per CPU-second unchanged within noise). 1 MiB is still ~2,000 typical alerts, more than an
 * output's delivery window (queuesize 1000) reads ahead.
 */
const DEFAULT_WINDOW_BYTES = 1024 * 1024;

interface Waiter { resolve: (seq: number) => void; reject: (err: Error) => void; seq: number }
interface Batch { bufs: Buffer[]; entries: SpoolEntry[]; bytes: number; waiters: Waiter[] }

/**
 * The file backend: segment files of checksummed records, written by group commit, read through an
 * in-memory window of the newest records (readers that lag read the files), cursors in cursors.json.
 * Design after Vector's disk buffer v2 (data files + ledger, delete a file once read past) and Fluent
 * Bit's chunks (oldest dropped first when over the limit).
 */
export class FileSpool implements Spool {
  private readonly opts: SpoolOptions & { segmentBytes: number; windowBytes: number; slowWriteMs: number };
  private readonly log: Logger;
  private readonly segments: Segment[];
  private readonly cursors = new Map<string, number>();
  private readonly absent = new Map<string, number>();
  /** Per consumer: records after its cursor already done, as the readers report them (saved with the cursors). */
  private readonly doneAbove = new Map<string, ReadonlySet<number>>();
  /** Per consumer: what the last run saved as done after its cursor (its reader skips those). */
  private readonly savedDone = new Map<string, Set<number>>();
  private readonly readers = new Map<string, FileReader>();
  private readonly cursorFile: CursorFile;
  private readonly unlock: () => void;
  private activeFd: number;
  private nextSeq: number;
  /** Seq after the last record written to the file (readers may read the files up to here). */
  writtenSeq: number;
  /**
   * Seq after the last record readers may take: appended records are handed to readers (from the memory
   * window) at once, before their group commit is written. Delivery does not wait for the disk, only the
   * acknowledgement does: at a paced 1,000 alerts/s the write's round trip through libuv's thread pool
   * took 0.2-0.4 ms at the median but 2-13 ms at the 99th percentile and up to 44 ms (bench/README.md),
   * all of it on the way to the output. At least once still holds: a record is acknowledged only once
   * written; one whose write fails was refused (503, the sender sends it again) and may be delivered twice.
   */
  visibleSeq: number;
  private bytes: number;
  private pending: Batch = emptyBatch();
  private flushing: Promise<void> | undefined;
  private flushTimer: NodeJS.Immediate | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private syncDue = false;
  private syncing: Promise<void> | undefined;
  private readonly cursorTimer: NodeJS.Timeout;
  private cursorsDirty = false;
  private saving: Promise<void> | undefined;
  private closed = false;
  /** performance.now() until which group commits go through the pool (a write was slow: see SLOW_WRITE_MS). */
  private poolWritesUntil = 0;
  private readonly slowWriteLog: ThrottledLog;
  private dropped = 0;
  private rejected = 0;
  private dataWaiters: (() => void)[] = [];
  private writeWaiters: (() => void)[] = [];
  private readonly hookedSignals = new WeakSet<AbortSignal>();
  /** The newest records, ending at visibleSeq - 1 (those at writtenSeq and after are not in the file yet). */
  private window: SpoolEntry[] = [];
  private windowStart = 0;
  private windowBytes = 0;

  static async open(options: SpoolOptions): Promise<FileSpool> {
    mkdirSync(options.dir, { recursive: true });
    const unlock = lockDir(options.dir);
    try {
      return new FileSpool(options, unlock, await openAsync(FileSpool.prepare(options), 'r+'));
    } catch (err) {
      unlock();
      throw err;
    }
  }

  /** Recovers the newest segment (or creates the first) and returns the path to append to. */
  private static prepare(o: SpoolOptions): string {
    const segs = listSegments(o.dir);
    const last = segs.at(-1);
    if (last) return last.path;
    const path = segmentPath(o.dir, 0);
    writeFileSync(path, '', { flag: 'a' });
    return path;
  }

  private constructor(options: SpoolOptions, unlock: () => void, activeFd: number) {
    // Segments well below the bound, so drop_oldest always has a sealed segment to give up.
    const segmentBytes = options.segmentBytes ?? Math.max(16 * 1024, Math.min(64 * 1024 * 1024, Math.floor(options.maxBytes / 8)));
    this.opts = { ...options, segmentBytes, windowBytes: options.windowBytes ?? DEFAULT_WINDOW_BYTES, slowWriteMs: options.slowWriteMs ?? SLOW_WRITE_MS };
    this.log = options.log ?? silentLogger;
    this.slowWriteLog = new ThrottledLog(this.log, SLOW_DISK_LOG_MS);
    this.unlock = unlock;
    this.activeFd = activeFd;
    this.segments = listSegments(options.dir);
    const last = this.segments.at(-1)!;
    const rec = recoverLastSegment(last);
    if (rec.records === 0) delete last.firstAt; // its only record was torn
    if (rec.truncatedBytes > 0) {
      this.log.warn({ file: last.path, truncatedBytes: rec.truncatedBytes, keptRecords: rec.records, reason: rec.reason },
        'spool: the last record was torn by a crash; cut off, every complete record is kept');
    }
    this.nextSeq = rec.nextSeq;
    this.writtenSeq = rec.nextSeq;
    this.visibleSeq = rec.nextSeq;
    this.bytes = this.segments.reduce((n, s) => n + s.bytes, 0);
    this.cursorFile = new CursorFile(options.dir, options.fsync !== 'never');
    const saved = this.cursorFile.load();
    const oldest = this.segments[0]!.first;
    for (const name of options.consumers) {
      const c = saved?.cursors.get(name);
      // A new consumer starts at the end; a lost cursor file means replaying everything (duplicates, never loss).
      const start = saved === undefined ? oldest : c === undefined ? this.nextSeq : Math.min(Math.max(c, oldest), this.nextSeq);
      this.cursors.set(name, start);
    }
    // Cursors of consumers not named now are kept in the file but hold nothing back: their records may go.
    for (const [k, v] of saved?.cursors ?? []) if (!this.cursors.has(k)) this.absent.set(k, v);
    // Seqs at or past the recovered end were handed out before their write and lost with the crash: the
    // records appended now take those seqs again, and must not be taken for delivered ones.
    for (const [k, v] of saved?.done ?? []) if (this.cursors.has(k)) this.savedDone.set(k, new Set(v.filter((s) => s >= this.cursors.get(k)! && s < this.nextSeq)));
    if (this.absent.size > 0) {
      this.log.warn({ consumers: [...this.absent.keys()] }, 'spool: consumers not configured now; the spool does not keep records for them');
    }
    this.cursorsDirty = true;
    this.cursorTimer = setInterval(() => void this.saveCursors(), CURSOR_SAVE_MS);
    this.cursorTimer.unref();
    this.collect();
  }

  append(payload: Buffer, memo?: unknown): Promise<number> {
    if (this.closed) return Promise.reject(new Error('spool is closed'));
    const size = HEADER_BYTES + payload.length;
    if (this.bytes + size > this.opts.maxBytes && !(this.opts.whenFull === 'drop_oldest' && this.makeRoom(size))) {
      this.rejected++;
      return Promise.reject(new SpoolFullError(this.bytes, this.opts.maxBytes));
    }
    const seq = this.nextSeq++;
    const appendedAt = Date.now();
    const buf = encodeRecord(seq, appendedAt, payload);
    const p = this.pending;
    const entry: SpoolEntry = memo === undefined ? { seq, appendedAt, payload } : { seq, appendedAt, payload, memo };
    p.bufs.push(buf);
    p.entries.push(entry);
    p.bytes += buf.length;
    this.bytes += buf.length;
    const done = new Promise<number>((resolve, reject) => p.waiters.push({ resolve, reject, seq }));
    this.scheduleFlush();
    this.addToWindow(entry);
    this.visibleSeq = seq + 1;
    this.wake(false);
    return done;
  }

  reader(consumer: string): SpoolReader {
    if (!this.cursors.has(consumer)) throw new Error(`spool: "${consumer}" is not a consumer of this spool`);
    let r = this.readers.get(consumer);
    if (!r) this.readers.set(consumer, (r = new FileReader(this, consumer, this.cursors.get(consumer)!, this.savedDone.get(consumer) ?? new Set())));
    return r;
  }

  stats(): SpoolStats {
    const consumers: SpoolStats['consumers'] = {};
    for (const [name, cursor] of this.cursors) {
      const pending = this.nextSeq - cursor;
      const at = pending > 0 ? this.appendedAtOf(cursor) : undefined;
      consumers[name] = at === undefined ? { cursor, pending } : { cursor, pending, oldestAppendedAt: at };
    }
    return {
      bytes: this.bytes, maxBytes: this.opts.maxBytes, records: this.nextSeq - this.oldestSeq,
      segments: this.segments.length, dropped: this.dropped, rejected: this.rejected, consumers,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.cursorTimer);
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    if (this.syncTimer) clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    this.syncDue = this.opts.fsync !== 'never';
    while (this.flushing || this.pending.entries.length > 0 || this.syncDue) await (this.flushing ?? this.flush());
    this.wake(true);
    if (this.syncing) await this.syncing;
    await Promise.all([...this.readers.values()].map((r) => r.release()));
    await this.saveCursors(true);
    await closeAsync(this.activeFd);
    this.slowWriteLog.flush();
    this.unlock();
  }

  // ---- used by readers ----

  get oldestSeq(): number {
    return this.segments[0]!.first;
  }

  /** Seq the next append gets. */
  get endSeq(): number {
    return this.nextSeq;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** When the record `seq` (or the first after it) was appended: from memory, else its segment's first record. */
  private appendedAtOf(seq: number): number | undefined {
    const inMemory = this.fromWindow(seq, 1)?.[0];
    if (inMemory) return inMemory.appendedAt;
    const where = this.locate(seq);
    return where?.seg.firstAt ?? this.pending.entries[0]?.appendedAt;
  }

  /** Records from `seq` on, if they are still in the memory window. */
  fromWindow(seq: number, max: number): SpoolEntry[] | undefined {
    const w = this.window;
    if (w.length === this.windowStart || seq < w[this.windowStart]!.seq) return undefined;
    // Seqs are increasing but may have gaps (a failed write), so search rather than index.
    let lo = this.windowStart;
    let hi = w.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (w[mid]!.seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return w.slice(lo, lo + max);
  }

  isActive(seg: Segment): boolean {
    return this.segments.at(-1) === seg;
  }

  /** The segment holding `seq`, its readable end in bytes, and the first seq after it. */
  locate(seq: number): { seg: Segment; end: number; nextFirst: number } | undefined {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const seg = this.segments[i]!;
      if (seg.first <= seq) {
        const next = this.segments[i + 1];
        return { seg, end: seg.bytes, nextFirst: next ? next.first : this.writtenSeq };
      }
    }
    return undefined;
  }

  /**
   * Resolves when new records are readable (`written`: once the file holds more), the spool closes, or the
   * signal aborts. Readers wait once per alert when they keep up: an abort listener is hooked once per
   * signal (it wakes every waiter; each checks its own signal), not added and removed on every wait.
   */
  waitForData(signal?: AbortSignal, written = false): Promise<void> {
    if (this.closed || signal?.aborted) return Promise.resolve();
    if (signal && !this.hookedSignals.has(signal)) {
      this.hookedSignals.add(signal);
      signal.addEventListener('abort', () => this.wake(true), { once: true });
    }
    return new Promise<void>((resolve) => (written ? this.writeWaiters : this.dataWaiters).push(resolve));
  }

  private wake(written: boolean): void {
    for (const w of this.dataWaiters.splice(0)) w();
    if (written) for (const w of this.writeWaiters.splice(0)) w();
  }

  /**
   * Records every consumer is done with (below every cursor) leave the memory window: nothing reads them
   * from it again, and while the outputs keep up this lets alerts die young. Kept for the window's full
   * 1 MiB (~1 s at 1,000/s) they outlived two scavenges and were copied into the old generation, so every
   * young-generation GC copied about a second of alerts.
   */
  private dropDone(slowest: number): void {
    while (this.windowStart < this.window.length && this.window[this.windowStart]!.seq < slowest) this.dropOldestInWindow();
  }

  ack(consumer: string, upTo: number, doneAbove?: ReadonlySet<number>): void {
    if (doneAbove) {
      this.doneAbove.set(consumer, doneAbove);
      if (doneAbove.size > 0) this.cursorsDirty = true;
    }
    const cur = this.cursors.get(consumer)!;
    const next = Math.min(upTo, this.nextSeq);
    if (next <= cur) return;
    this.cursors.set(consumer, next);
    this.cursorsDirty = true;
    this.collect();
  }

  cursorOf(consumer: string): number {
    return this.cursors.get(consumer)!;
  }

  noteCorrupt(path: string, reason: string, skippedTo: number): void {
    this.log.error({ file: path, reason, skippedTo }, 'spool: unreadable record inside a segment; the rest of that segment is skipped');
  }

  // ---- writing ----

  private scheduleFlush(): void {
    if (this.flushing || this.flushTimer) return;
    // Appends made in the same turn of the event loop share the write; later ones the next.
    this.flushTimer = setImmediate(() => {
      this.flushTimer = undefined;
      void this.flush();
    });
  }

  private flush(): Promise<void> {
    this.flushing = this.flushBatches().finally(() => {
      this.flushing = undefined;
      if ((this.pending.entries.length > 0 || this.syncDue) && !this.closed) this.scheduleFlush();
    });
    return this.flushing;
  }

  private async flushBatches(): Promise<void> {
    // One batch per round: what arrived while the previous write (and sync) ran is the next group commit.
    while (this.pending.entries.length > 0 || this.syncDue) {
      if (this.pending.entries.length > 0) {
        const batch = this.pending;
        this.pending = emptyBatch();
        try {
          await this.writeBatch(batch);
          if (this.opts.fsync === 'always') await syncAsync(this.activeFd);
          for (const w of batch.waiters) w.resolve(w.seq);
        } catch (err) {
          const e = err as Error;
          this.log.error({ err: e.message, records: batch.entries.length }, 'spool: write failed; these appends are refused');
          for (const w of batch.waiters) w.reject(new Error(`spool write failed: ${e.message}`));
        }
        if (this.opts.fsync === 'interval') this.armSync();
      }
      if (this.syncDue) {
        this.syncDue = false;
        await this.syncNow();
      }
    }
  }

  /** interval: what was written is synced at most fsyncMs later, beside the writes (not in their way). */
  private armSync(): void {
    if (this.syncTimer) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      if (this.syncing) return this.armSync();
      void this.syncNow();
    }, this.opts.fsyncMs);
  }

  private syncNow(): Promise<void> {
    const p = syncAsync(this.activeFd)
      .catch((err: unknown) => { this.log.error({ err: (err as Error).message }, 'spool: fsync failed'); })
      .finally(() => { if (this.syncing === p) this.syncing = undefined; });
    this.syncing = p;
    return p;
  }

  private async writeBatch(batch: Batch): Promise<void> {
    let active = this.segments.at(-1)!;
    if (active.bytes > 0 && active.bytes + batch.bytes > this.opts.segmentBytes) active = await this.rotate(batch.entries[0]!.seq);
    const data = batch.bufs.length === 1 ? batch.bufs[0]! : Buffer.concat(batch.bufs, batch.bytes);
    let off = 0;
    try {
      const start = performance.now();
      if (start >= this.poolWritesUntil) {
        while (off < data.length) off += writeSync(this.activeFd, data, off, data.length - off, active.bytes + off);
        const ms = performance.now() - start;
        if (ms > this.opts.slowWriteMs) this.noteSlowWrite(ms, data.length);
      } else {
        while (off < data.length) off += await writeAsync(this.activeFd, data.subarray(off), active.bytes + off);
      }
    } catch (err) {
      // The next write starts at the same offset, over what was partly written.
      this.bytes -= batch.bytes;
      throw err;
    }
    active.firstAt ??= batch.entries[0]!.appendedAt;
    active.bytes += data.length;
    this.writtenSeq = batch.entries.at(-1)!.seq + 1;
    // Readers that fell out of the memory window wait for the file to hold what they need.
    for (const w of this.writeWaiters.splice(0)) w();
  }

  private noteSlowWrite(ms: number, bytes: number): void {
    this.poolWritesUntil = performance.now() + SLOW_DISK_BACKOFF_MS;
    this.slowWriteLog.note('slow-write', 'warn', 'spool: writes to disk were slow; each time, writes go through the I/O thread pool for a while',
      { ms: Math.round(ms), bytes, poolForS: SLOW_DISK_BACKOFF_MS / 1000 });
  }

  private async rotate(first: number): Promise<Segment> {
    const old = this.activeFd;
    const seg: Segment = { first, path: segmentPath(this.opts.dir, first), bytes: 0 };
    this.activeFd = await openAsync(seg.path, 'w+');
    this.segments.push(seg);
    // Syncs started before the switch may still use the old descriptor: let them end before it closes.
    while (this.syncing) await this.syncing;
    if (this.opts.fsync !== 'never') await syncAsync(old);
    await closeAsync(old);
    if (this.opts.fsync !== 'never') {
      const dirFd = await openAsync(this.opts.dir, 'r');
      await syncAsync(dirFd).catch(() => undefined);
      await closeAsync(dirFd);
    }
    this.collect();
    return seg;
  }

  private addToWindow(e: SpoolEntry): void {
    this.window.push(e);
    this.windowBytes += e.payload.length + HEADER_BYTES;
    while (this.windowBytes > this.opts.windowBytes && this.windowStart < this.window.length - 1) this.dropOldestInWindow();
    if (this.windowStart > 4096 && this.windowStart * 2 > this.window.length) {
      this.window = this.window.slice(this.windowStart);
      this.windowStart = 0;
    }
  }

  private dropOldestInWindow(): void {
    this.windowBytes -= this.window[this.windowStart]!.payload.length + HEADER_BYTES;
    this.window[this.windowStart++] = undefined as unknown as SpoolEntry;
  }

  // ---- bounds and deletion ----

  /** drop_oldest: deletes the oldest sealed segments until `size` more bytes fit; false when it cannot. */
  private makeRoom(size: number): boolean {
    while (this.bytes + size > this.opts.maxBytes && this.segments.length > 1) {
      const seg = this.segments.shift()!;
      const end = this.segments[0]!.first;
      const slowest = Math.min(...this.cursors.values(), this.nextSeq);
      this.dropped += Math.max(0, end - Math.max(seg.first, slowest));
      for (const [name, c] of this.cursors) if (c < end) this.cursors.set(name, end);
      this.cursorsDirty = true;
      this.bytes -= seg.bytes;
      unlinkAsync(seg.path).catch(() => undefined);
    }
    return this.bytes + size <= this.opts.maxBytes;
  }

  /** Deletes sealed segments every consumer has passed, and drops what they are done with from memory. */
  private collect(): void {
    let slowest = this.nextSeq;
    for (const c of this.cursors.values()) if (c < slowest) slowest = c;
    while (this.segments.length > 1 && this.segments[1]!.first <= slowest) {
      const seg = this.segments.shift()!;
      this.bytes -= seg.bytes;
      unlinkAsync(seg.path).catch(() => undefined);
    }
    this.dropDone(slowest);
  }

  /** One save at a time: two would write the same temporary file at once and could rename a mix of both. */
  private saveCursors(force = false): Promise<void> {
    if (this.saving) {
      if (force) return this.saving.then(() => this.saveCursors(true));
      return this.saving;
    }
    if (!this.cursorsDirty && !force) return Promise.resolve();
    this.saving = this.writeCursors().finally(() => { this.saving = undefined; });
    return this.saving;
  }

  private async writeCursors(): Promise<void> {
    this.cursorsDirty = false;
    try {
      const done = new Map<string, number[]>();
      for (const [name, cursor] of this.cursors) {
        // Until a reader reports, what the last run saved still holds.
        const set = this.doneAbove.get(name) ?? this.savedDone.get(name);
        const list = set ? [...set].filter((s) => s >= cursor) : [];
        if (list.length > 0) done.set(name, list);
      }
      await this.cursorFile.save({ cursors: new Map([...this.absent, ...this.cursors]), done });
    } catch (err) {
      this.cursorsDirty = true;
      this.log.error({ err: (err as Error).message }, 'spool: cannot save cursors (delivered alerts may be sent again after a restart)');
    }
  }
}

/** One consumer's reading position: from the memory window when close to the end, else from the files. */
class FileReader implements SpoolReader {
  readonly consumer: string;
  private readonly spool: FileSpool;
  private nextSeq: number;
  private file: { seg: Segment; fd: number; offset: number } | undefined;
  /**
   * Records decoded from the last chunk read from a file but not handed out yet. Without it a reader that
   * is asked for a few records at a time (a slow output frees one slot per send) re-read a whole chunk
   * for each of them.
   */
  private ahead: SpoolEntry[] = [];
  /** Index of the first read-ahead record not handed out yet (entries are taken from the front). */
  private aheadAt = 0;
  private readonly corruptLogged = new Set<string>();
  private readonly skip: Set<number>;
  skippedAsDone = 0;

  constructor(spool: FileSpool, consumer: string, start: number, skip: Set<number>) {
    this.spool = spool;
    this.consumer = consumer;
    this.nextSeq = start;
    this.skip = skip;
  }

  get cursor(): number {
    return this.spool.cursorOf(this.consumer);
  }

  get pending(): number {
    return this.spool.endSeq - this.cursor;
  }

  ack(upTo: number, doneAbove?: ReadonlySet<number>): void {
    this.spool.ack(this.consumer, upTo, doneAbove);
  }

  async next(max: number, signal?: AbortSignal): Promise<SpoolEntry[]> {
    for (;;) {
      if (this.spool.isClosed || signal?.aborted) return [];
      // Records dropped to make room are skipped (they were counted when dropped).
      this.nextSeq = Math.max(this.nextSeq, this.spool.oldestSeq, this.cursor);
      if (this.nextSeq >= this.spool.visibleSeq) {
        await this.spool.waitForData(signal);
        continue;
      }
      const fromMemory = this.fromAhead(max) ?? this.spool.fromWindow(this.nextSeq, max);
      // Out of the window and not yet in the file (a group commit larger than the window): wait for the write.
      if (!fromMemory && this.nextSeq >= this.spool.writtenSeq) {
        await this.spool.waitForData(signal, true);
        continue;
      }
      let got = fromMemory ?? (await this.readFile(max));
      if (got.length > 0) {
        this.nextSeq = got.at(-1)!.seq + 1;
        if (this.skip.size > 0) got = this.withoutDone(got);
        if (got.length > 0) return got;
      }
    }
  }

  /** Up to `max` read-ahead records from `nextSeq` on; those before it (dropped to make room) are discarded. */
  private fromAhead(max: number): SpoolEntry[] | undefined {
    while (this.aheadAt < this.ahead.length && this.ahead[this.aheadAt]!.seq < this.nextSeq) this.aheadAt++;
    if (this.aheadAt >= this.ahead.length) {
      this.ahead = [];
      this.aheadAt = 0;
      return undefined;
    }
    const out = this.ahead.slice(this.aheadAt, this.aheadAt + max);
    this.aheadAt += out.length;
    return out;
  }

  /** Drops records the previous run had delivered already (saved as done after its cursor). */
  private withoutDone(entries: SpoolEntry[]): SpoolEntry[] {
    const out = entries.filter((e) => !this.skip.delete(e.seq));
    this.skippedAsDone += entries.length - out.length;
    return out;
  }

  async release(): Promise<void> {
    this.ahead = [];
    this.aheadAt = 0;
    if (this.file) await closeAsync(this.file.fd).catch(() => undefined);
    this.file = undefined;
  }

  private async readFile(max: number): Promise<SpoolEntry[]> {
    const where = this.spool.locate(this.nextSeq);
    if (!where) return [];
    const { seg, nextFirst } = where;
    if (!this.file || this.file.seg !== seg) {
      await this.release();
      try {
        this.file = { seg, fd: await openAsync(seg.path, 'r'), offset: 0 };
      } catch {
        this.nextSeq = Math.max(this.nextSeq, nextFirst); // deleted meanwhile (dropped)
        return [];
      }
    }
    const f = this.file;
    const out: SpoolEntry[] = [];
    let buf = Buffer.allocUnsafe(READ_CHUNK);
    while (out.length < max) {
      const end = seg.bytes;
      if (f.offset >= end) break;
      const n = await readAsync(f.fd, buf.length > end - f.offset ? buf.subarray(0, end - f.offset) : buf, f.offset);
      if (n === 0) break;
      let pos = 0;
      let stop = false;
      while (pos < n) {
        const d = decodeRecord(buf.subarray(0, n), pos);
        if (d.kind === 'short') {
          if (f.offset + pos + d.need <= end) {
            if (pos === 0) buf = Buffer.allocUnsafe(d.need); // a record larger than the buffer
            break;
          }
          this.skipSegment(seg, 'record cut short', nextFirst);
          return out;
        }
        if (d.kind === 'corrupt') {
          this.skipSegment(seg, d.reason, nextFirst);
          return out;
        }
        pos += d.size;
        if (d.entry.seq < this.nextSeq) continue;
        // The rest of the chunk is decoded too and kept for the next calls instead of being read again.
        if (out.length < max) out.push(d.entry);
        else this.ahead.push(d.entry);
        if (out.length >= max) stop = true;
      }
      f.offset += pos;
      if (stop) break;
    }
    if (out.length === 0 && f.offset >= seg.bytes && !this.spool.isActive(seg)) {
      // End of a sealed segment: continue in the next one.
      this.nextSeq = Math.max(this.nextSeq, nextFirst);
    }
    return out;
  }

  private skipSegment(seg: Segment, reason: string, nextFirst: number): void {
    if (!this.corruptLogged.has(seg.path)) {
      this.corruptLogged.add(seg.path);
      this.spool.noteCorrupt(seg.path, reason, nextFirst);
    }
    this.nextSeq = Math.max(this.nextSeq, nextFirst);
    if (this.file) this.file.offset = seg.bytes;
  }
}

function emptyBatch(): Batch {
  return { bufs: [], entries: [], bytes: 0, waiters: [] };
}
