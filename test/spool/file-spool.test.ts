import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, statSync, appendFileSync, readFileSync, writeFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSpool } from '../../src/spool/registry.ts';
import { SpoolFullError, type Spool, type SpoolOptions } from '../../src/spool/contract.ts';
import { encodeRecord, HEADER_BYTES } from '../../src/spool/file/record.ts';
import { capturingLogger } from '../support/log-capture.ts';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'peregrine-spool-'));
}

function open(dir: string, over: Partial<SpoolOptions> = {}): Promise<Spool> {
  return openSpool('file', { dir, fsync: 'interval', fsyncMs: 2, maxBytes: 1 << 30, whenFull: 'reject', consumers: ['a', 'b'], ...over });
}

const payload = (i: number, pad = 0) => Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(pad) }));
const numbers = (entries: { payload: Buffer }[]) => entries.map((e) => (JSON.parse(e.payload.toString()) as { i: number }).i);
const segmentFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();

async function readAll(s: Spool, consumer: string, count: number): Promise<number[]> {
  const r = s.reader(consumer);
  const out: number[] = [];
  while (out.length < count) {
    const got = await r.next(count - out.length, AbortSignal.timeout(3000));
    if (got.length === 0) throw new Error(`reader ${consumer} stalled after ${out.length} of ${count}`);
    out.push(...numbers(got));
  }
  return out;
}

describe('file spool', () => {
  for (const fsync of ['always', 'interval', 'never'] as const) {
    test(`fsync ${fsync}: appends resolve with increasing seqs and survive a reopen`, async () => {
      const dir = tmp();
      let s = await open(dir, { fsync });
      const seqs = await Promise.all(Array.from({ length: 50 }, (_, i) => s.append(payload(i))));
      assert.deepEqual(seqs, Array.from({ length: 50 }, (_, i) => i));
      assert.deepEqual(await readAll(s, 'a', 50), Array.from({ length: 50 }, (_, i) => i));
      await s.close();
      s = await open(dir, { fsync });
      // Nothing was acknowledged: both consumers read everything again (at least once).
      assert.deepEqual(await readAll(s, 'a', 50), Array.from({ length: 50 }, (_, i) => i));
      assert.deepEqual(await readAll(s, 'b', 50), Array.from({ length: 50 }, (_, i) => i));
      assert.equal(await s.append(payload(50)), 50);
      await s.close();
    });
  }

  test('each consumer has its own persisted cursor; unacknowledged records come again', async () => {
    const dir = tmp();
    let s = await open(dir);
    for (let i = 0; i < 10; i++) await s.append(payload(i));
    const a = s.reader('a');
    assert.deepEqual(numbers(await a.next(4)), [0, 1, 2, 3]);
    a.ack(3); // 0..2 done, 3 handed out but not done
    assert.equal(a.cursor, 3);
    const { a: sa, b: sb } = s.stats().consumers;
    assert.deepEqual([sa!.cursor, sa!.pending, sb!.cursor, sb!.pending], [3, 7, 0, 10]);
    assert.equal(a.pending, 7);
    await s.close();
    s = await open(dir);
    assert.equal(s.reader('a').cursor, 3);
    assert.deepEqual(await readAll(s, 'a', 7), [3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual((await readAll(s, 'b', 10)).length, 10);
    await s.close();
  });

  test('records saved as done after the cursor are not handed out again after a reopen', async () => {
    const dir = tmp();
    let s = await open(dir);
    for (let i = 0; i < 10; i++) await s.append(payload(i));
    const a = s.reader('a');
    assert.deepEqual(numbers(await a.next(10)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    a.ack(3, new Set([5, 7])); // 0..2 done; 5 and 7 delivered out of order; 3, 4, 6, 8, 9 not yet
    await s.close();
    s = await open(dir);
    assert.deepEqual(await readAll(s, 'a', 5), [3, 4, 6, 8, 9]);
    assert.equal(s.reader('a').skippedAsDone, 2);
    assert.deepEqual(await readAll(s, 'b', 10), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'other consumers are not affected');
    await s.close();
  });

  test('cursor saves never overlap: with acks while saves are slow, the file always parses', async () => {
    const dir = tmp();
    const s = await open(dir, { fsync: 'always' });
    for (let i = 0; i < 200; i++) await s.append(payload(i));
    const r = s.reader('a');
    const until = Date.now() + 1500;
    let n = 0;
    while (Date.now() < until) {
      r.ack(++n % 200, new Set(Array.from({ length: 500 }, (_, k) => 1000 + k)));
      const text = readFileSyncOrEmpty(join(dir, 'cursors.json'));
      if (text !== '') JSON.parse(text);
      await new Promise((res) => setImmediate(res));
    }
    await s.close();
    assert.ok(JSON.parse(readFileSync(join(dir, 'cursors.json'), 'utf8')).cursors.a >= 0);
  });

  test('stats: the age of the oldest record each consumer has not acknowledged, from memory or from its segment', async () => {
    const dir = tmp();
    let s = await open(dir, { segmentBytes: 600 });
    const t0 = Date.now();
    for (let i = 0; i < 30; i++) await s.append(payload(i, 40));
    s.reader('a').ack(30);
    assert.equal(s.stats().consumers.a!.oldestAppendedAt, undefined, 'nothing pending');
    const b = s.stats().consumers.b!.oldestAppendedAt!;
    assert.ok(b >= t0 - 5 && b <= Date.now());
    await s.close();
    s = await open(dir, { segmentBytes: 600 });
    assert.equal(s.stats().consumers.b!.oldestAppendedAt, b, 'after a reopen, from the first segment\'s first record');
    await s.close();
  });

  test('acks never move a cursor backwards', async () => {
    const s = await open(tmp());
    for (let i = 0; i < 5; i++) await s.append(payload(i));
    s.reader('a').ack(4);
    s.reader('a').ack(2);
    assert.equal(s.reader('a').cursor, 4);
    await s.close();
  });

  test('segments roll over; a segment is deleted once every consumer passed it, not before', async () => {
    const dir = tmp();
    const s = await open(dir, { segmentBytes: 1024, windowBytes: 512 });
    for (let i = 0; i < 100; i++) await s.append(payload(i, 40));
    const before = segmentFiles(dir).length;
    assert.ok(before >= 5, `expected several segments, got ${before}`);
    // a reads and acknowledges everything; b lags: nothing may be deleted.
    assert.deepEqual(await readAll(s, 'a', 100), Array.from({ length: 100 }, (_, i) => i));
    s.reader('a').ack(100);
    assert.equal(segmentFiles(dir).length, before);
    // b lags behind the memory window, so it reads the files, in order, across segments.
    const b = await readAll(s, 'b', 100);
    assert.deepEqual(b, Array.from({ length: 100 }, (_, i) => i));
    s.reader('b').ack(50);
    await new Promise((r) => setTimeout(r, 50));
    const mid = segmentFiles(dir).length;
    assert.ok(mid < before && mid > 1, `${mid} segments left after b passed half`);
    s.reader('b').ack(100);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(segmentFiles(dir).length, 1, 'only the segment being written stays');
    const st = s.stats();
    assert.equal(st.bytes, statSync(join(dir, segmentFiles(dir)[0]!)).size);
    await s.close();
  });

  test('reject: a full spool refuses appends with SpoolFullError and counts them', async () => {
    const dir = tmp();
    const s = await open(dir, { maxBytes: 4096, segmentBytes: 1024 });
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 100; i++) {
      try {
        await s.append(payload(i, 60));
        accepted++;
      } catch (err) {
        assert.ok(err instanceof SpoolFullError);
        refused++;
      }
    }
    assert.ok(accepted > 0 && refused > 0);
    assert.equal(s.stats().rejected, refused);
    assert.ok(s.stats().bytes <= 4096);
    // Once the consumers catch up, room comes back.
    s.reader('a').ack(accepted);
    s.reader('b').ack(accepted);
    await s.append(payload(1000, 60));
    await s.close();
  });

  test('drop_oldest: oldest segments go, the drop is counted, lagging readers skip ahead, bytes stay bounded', async () => {
    const dir = tmp();
    const s = await open(dir, { maxBytes: 8192, segmentBytes: 1024, whenFull: 'drop_oldest', windowBytes: 256 });
    for (let i = 0; i < 300; i++) {
      await s.append(payload(i, 60));
      assert.ok(s.stats().bytes <= 8192);
    }
    const st = s.stats();
    assert.ok(st.dropped > 0);
    assert.equal(st.dropped + st.consumers.a!.pending, 300);
    const got = await readAll(s, 'a', st.consumers.a!.pending);
    assert.equal(got.at(-1), 299);
    assert.equal(got[0], 300 - got.length);
    await s.close();
  });

  test('readers get an appended record before its write is done; the append resolves only once it is written', async () => {
    const dir = tmp();
    const s = await open(dir, { fsync: 'always' });
    const r = s.reader('a');
    const waiting = r.next(10, AbortSignal.timeout(3000));
    let written = false;
    const appended = s.append(payload(1)).then((seq) => { written = true; return seq; });
    const got = await waiting;
    assert.deepEqual(numbers(got), [1]);
    assert.equal(written, false, 'handed to the reader before the write (and its fsync) completed');
    assert.equal(await appended, 0);
    await s.close();
  });

  /**
   * Whether an append's write was made on the loop's thread: then it resolves before a setImmediate queued just
   * after it (the group commit runs in the check phase and resolves in its microtasks); through the pool it
   * resolves only once the pool's completion comes back, a later turn.
   */
  async function writtenOnTheLoop(s: Spool, i: number): Promise<boolean> {
    await new Promise((r) => setImmediate(r)); // the previous group commit has finished
    const order: string[] = [];
    const appended = s.append(payload(i)).then(() => order.push('written'));
    setImmediate(() => order.push('next turn'));
    await appended;
    await new Promise((r) => setImmediate(r));
    return order[0] === 'written';
  }

  test('a group commit is written on the loop; a slow write sends the following ones through the thread pool, logged once', async () => {
    const dir = tmp();
    let s = await open(dir);
    assert.equal(await writtenOnTheLoop(s, 0), true, 'no pool round trip before the acknowledgement');
    await s.close();
    const { log, lines } = capturingLogger();
    // Every write taken on the loop counts as slow: the first one is, and the rest must then use the pool.
    s = await open(dir, { log, slowWriteMs: -1 });
    assert.equal(await writtenOnTheLoop(s, 1), true, 'the first write is tried on the loop');
    for (let i = 2; i < 30; i++) assert.equal(await writtenOnTheLoop(s, i), false, `write ${i} went through the pool`);
    const slow = lines.filter((l) => /writes to disk were slow/.test(String(l.msg)));
    assert.equal(slow.length, 1, 'one line, then the pool for a while');
    assert.equal(slow[0]!.level, 40, 'a warning');
    await s.close();
    s = await open(dir);
    assert.deepEqual(await readAll(s, 'a', 30), Array.from({ length: 30 }, (_, i) => i), 'every write reached the file either way');
    await s.close();
  });

  test('seqs saved as done that a crash took back (delivered before their write) do not hide the new records that take them', async () => {
    const dir = tmp();
    let s = await open(dir);
    for (let i = 0; i < 5; i++) await s.append(payload(i));
    await s.close();
    // As a crash can leave it: the cursor and the done list past the records the file holds (0..4).
    writeFileSync(join(dir, 'cursors.json'), JSON.stringify({ cursors: { a: 7, b: 0 }, done: { a: [8, 9], b: [6] } }));
    s = await open(dir);
    for (let i = 5; i < 12; i++) assert.equal(await s.append(payload(i)), i);
    assert.deepEqual(await readAll(s, 'a', 7), [5, 6, 7, 8, 9, 10, 11]);
    assert.deepEqual(await readAll(s, 'b', 12), Array.from({ length: 12 }, (_, i) => i));
    await s.close();
  });

  test('a torn last record is cut off and logged once; every complete record is kept', async () => {
    const dir = tmp();
    let s = await open(dir);
    for (let i = 0; i < 20; i++) await s.append(payload(i));
    await s.close();
    const seg = join(dir, segmentFiles(dir).at(-1)!);
    const whole = readFileSync(seg).length;
    const next = encodeRecord(20, Date.now(), payload(20, 100));
    appendFileSync(seg, next.subarray(0, HEADER_BYTES + 30)); // a crash in the middle of a write
    const { log, lines } = capturingLogger();
    s = await open(dir, { log });
    assert.equal(readFileSync(seg).length, whole);
    assert.equal(lines.filter((l) => /torn/.test(String(l.msg))).length, 1);
    assert.deepEqual(await readAll(s, 'a', 20), Array.from({ length: 20 }, (_, i) => i));
    assert.equal(await s.append(payload(20)), 20, 'appends continue after the last complete record');
    await s.close();
  });

  test('a record cut mid-way with a following segment missing its end: the reader skips to the next segment', async () => {
    const dir = tmp();
    let s = await open(dir, { segmentBytes: 600, windowBytes: 100 });
    for (let i = 0; i < 30; i++) await s.append(payload(i, 40));
    await s.close();
    const files = segmentFiles(dir);
    assert.ok(files.length >= 3);
    // Flip a byte inside the first segment's second record: the checksum catches it.
    const first = join(dir, files[0]!);
    const bytes = readFileSync(first);
    const recordSize = HEADER_BYTES + payload(0, 40).length;
    bytes[recordSize + HEADER_BYTES + 3] = bytes[recordSize + HEADER_BYTES + 3]! ^ 0xff;
    writeFileSync(first, bytes);
    const { log, lines } = capturingLogger();
    s = await open(dir, { log, segmentBytes: 600, windowBytes: 100 });
    const secondFirst = Number(files[1]!.slice(0, -4));
    const got = await readAll(s, 'a', 30 - secondFirst + 1);
    assert.deepEqual(got, [0, ...Array.from({ length: 30 - secondFirst }, (_, i) => secondFirst + i)]);
    assert.equal(lines.filter((l) => /unreadable record/.test(String(l.msg))).length, 1);
    await s.close();
  });

  test('a truncated newest segment (cut mid-record) recovers all complete records', async () => {
    const dir = tmp();
    let s = await open(dir, { segmentBytes: 800 });
    for (let i = 0; i < 40; i++) await s.append(payload(i, 30));
    await s.close();
    const last = join(dir, segmentFiles(dir).at(-1)!);
    const lastFirst = Number(segmentFiles(dir).at(-1)!.slice(0, -4));
    const size = statSync(last).size;
    const recordSize = HEADER_BYTES + payload(0, 30).length;
    truncateSync(last, size - Math.floor(recordSize / 2)); // the last record loses its second half
    s = await open(dir, { segmentBytes: 800 });
    const got = await readAll(s, 'a', 39);
    assert.deepEqual(got, Array.from({ length: 39 }, (_, i) => i));
    assert.ok(lastFirst < 39);
    assert.equal(await s.append(payload(99)), 39);
    await s.close();
  });

  test('a reader waiting for records wakes on append and returns [] on close or abort', async () => {
    const s = await open(tmp());
    const r = s.reader('a');
    const waiting = r.next(10);
    setTimeout(() => void s.append(payload(7)), 20);
    assert.deepEqual(numbers(await waiting), [7]);
    const ac = new AbortController();
    const aborted = r.next(10, ac.signal);
    ac.abort();
    assert.deepEqual(await aborted, []);
    const closing = r.next(10);
    await s.close();
    assert.deepEqual(await closing, []);
  });

  test('one process per directory; a lock left by a dead process is taken over', async () => {
    const dir = tmp();
    const s = await open(dir);
    await assert.rejects(open(dir), /in use by process/);
    await s.close();
    writeFileSync(join(dir, 'LOCK'), '999999999\n');
    const again = await open(dir);
    await again.close();
  });

  test('a new consumer starts at the end; consumers not named now are logged and hold nothing back', async () => {
    const dir = tmp();
    let s = await open(dir);
    for (let i = 0; i < 5; i++) await s.append(payload(i));
    await s.close();
    const { log, lines } = capturingLogger();
    s = await open(dir, { consumers: ['a', 'c'], log });
    assert.equal(s.reader('c').cursor, 5);
    assert.equal(s.reader('a').cursor, 0);
    assert.throws(() => s.reader('b'), /not a consumer/);
    assert.deepEqual(lines.find((l) => /not configured now/.test(String(l.msg)))?.consumers, ['b']);
    await s.close();
    // Named again, b finds its cursor.
    s = await open(dir);
    assert.equal(s.reader('b').cursor, 0);
    await s.close();
  });

  test('a lost cursor file replays everything (duplicates, never loss)', async () => {
    const dir = tmp();
    let s = await open(dir);
    for (let i = 0; i < 5; i++) await s.append(payload(i));
    s.reader('a').ack(5);
    await s.close();
    writeFileSync(join(dir, 'cursors.json'), '{"a": 5, trunc');
    s = await open(dir);
    assert.equal(s.reader('a').cursor, 0);
    await s.close();
  });

  test('memory stays bounded: a large backlog is read from disk through a small window', async () => {
    const dir = tmp();
    const s = await open(dir, { fsync: 'never', segmentBytes: 256 * 1024, windowBytes: 64 * 1024 });
    const n = 20000;
    const appends: Promise<number>[] = [];
    for (let i = 0; i < n; i++) appends.push(s.append(payload(i, 200)));
    await Promise.all(appends);
    const heapBefore = process.memoryUsage().heapUsed;
    const r = s.reader('a');
    let expect = 0;
    while (expect < n) {
      const got = await r.next(500);
      for (const v of numbers(got)) assert.equal(v, expect++);
      r.ack(expect);
    }
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 64 * 1024 * 1024);
    await s.close();
  });
});

describe('file spool: reading a backlog a few records at a time', () => {
  test('one record per call: every record once and in order, across segments', async () => {
    const dir = tmp();
    const s = await open(dir, { fsync: 'never', segmentBytes: 64 * 1024, windowBytes: 4 * 1024 });
    const n = 3000;
    // In groups, so that group commits fill several segments.
    for (let g = 0; g < n; g += 100) await Promise.all(Array.from({ length: 100 }, (_, k) => s.append(payload(g + k, 100))));
    assert.ok(segmentFiles(dir).length >= 3);
    const r = s.reader('a');
    for (let expect = 0; expect < n; expect++) {
      const got = await r.next(1, AbortSignal.timeout(3000));
      assert.deepEqual(numbers(got), [expect]);
      r.ack(expect + 1);
    }
    await s.close();
  });

  test('records dropped to make room after a read are not handed out from what was read ahead', async () => {
    const dir = tmp();
    const s = await open(dir, { fsync: 'never', segmentBytes: 16 * 1024, windowBytes: 1024, maxBytes: 64 * 1024, whenFull: 'drop_oldest' });
    let i = 0;
    for (; i < 200; i++) await s.append(payload(i, 100));
    const r = s.reader('a');
    assert.deepEqual(numbers(await r.next(1)), [0]); // the rest of its chunk is read ahead
    for (; i < 800; i++) await s.append(payload(i, 100)); // drops the oldest segments
    const st = s.stats();
    assert.ok(st.dropped > 0);
    const oldest = i - st.records;
    const next = numbers(await r.next(1));
    assert.ok(next[0]! >= oldest, `handed out ${next[0]}, but records before ${oldest} were dropped`);
    // From there on, in order to the end.
    const rest = [next[0]!];
    while (rest.at(-1)! < i - 1) rest.push(...numbers(await r.next(100, AbortSignal.timeout(3000))));
    assert.deepEqual(rest, Array.from({ length: i - next[0]! }, (_, k) => next[0]! + k));
    await s.close();
  });
});

function readFileSyncOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
