import { openSync, readdirSync, readSync, closeSync, fstatSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRecord, HEADER_BYTES } from './record.ts';

/** A segment file holds the records from seq `first` up to the next segment's first (or the log's end). */
export interface Segment {
  first: number;
  path: string;
  /** Bytes written to it so far. */
  bytes: number;
  /** When its first record was appended (ms), once it has one. */
  firstAt?: number;
}

const SUFFIX = '.seg';

export function segmentPath(dir: string, first: number): string {
  return join(dir, `${String(first).padStart(20, '0')}${SUFFIX}`);
}

/** The segment files in the directory, oldest first. */
export function listSegments(dir: string): Segment[] {
  const out: Segment[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(SUFFIX)) continue;
    const first = Number(name.slice(0, -SUFFIX.length));
    if (!Number.isSafeInteger(first) || first < 0) continue;
    const path = join(dir, name);
    const fd = openSync(path, 'r');
    try {
      const seg: Segment = { first, path, bytes: fstatSync(fd).size };
      const head = Buffer.alloc(HEADER_BYTES);
      if (readSync(fd, head, 0, HEADER_BYTES, 0) === HEADER_BYTES) seg.firstAt = head.readDoubleLE(16);
      out.push(seg);
    } finally {
      closeSync(fd);
    }
  }
  return out.sort((a, b) => a.first - b.first);
}

export interface Recovered {
  /** Seq the next append gets. */
  nextSeq: number;
  /** Complete records found. */
  records: number;
  /** Bytes cut from the end (a record torn by a crash), 0 when the file was clean. */
  truncatedBytes: number;
  reason?: string;
}

/**
 * Checks the newest segment record by record and cuts it after the last complete one, so appends
 * continue on a clean end. Only the newest segment can end in a torn record: older ones were
 * complete when the writer moved on.
 */
export function recoverLastSegment(seg: Segment): Recovered {
  const fd = openSync(seg.path, 'r+');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    let offset = 0;
    let records = 0;
    let nextSeq = seg.first;
    let reason: string | undefined;
    while (offset < got) {
      const d = decodeRecord(buf.subarray(0, got), offset);
      if (d.kind !== 'record') {
        reason = d.kind === 'short' ? 'record cut short' : d.reason;
        break;
      }
      records++;
      nextSeq = d.entry.seq + 1;
      offset += d.size;
    }
    const truncatedBytes = size - offset;
    if (truncatedBytes > 0) ftruncateSync(fd, offset);
    seg.bytes = offset;
    return { nextSeq, records, truncatedBytes, ...(reason ? { reason } : {}) };
  } finally {
    closeSync(fd);
  }
}
