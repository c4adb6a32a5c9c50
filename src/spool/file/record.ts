import { crc32 } from 'node:zlib';
import type { SpoolEntry } from '../contract.ts';

/**
 * One record on disk: a 24-byte header, then the payload.
 *   u32 payload length | u32 CRC-32 of everything after it | f64 seq | f64 appendedAt (ms)
 * The checksum covers seq, time and payload, so a torn or overwritten record is recognised wherever it is.
 */
export const HEADER_BYTES = 24;
/** Larger lengths can only be garbage (the HTTP input's body limit is far below). */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

export function encodeRecord(seq: number, appendedAt: number, payload: Buffer): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  buf.writeUInt32LE(payload.length, 0);
  buf.writeDoubleLE(seq, 8);
  buf.writeDoubleLE(appendedAt, 16);
  payload.copy(buf, HEADER_BYTES);
  buf.writeUInt32LE(crc32(buf.subarray(8)), 4);
  return buf;
}

export type Decoded =
  | { kind: 'record'; entry: SpoolEntry; size: number }
  /** The buffer ends inside this record: read more (or, at the end of a file, it is torn). */
  | { kind: 'short'; need: number }
  | { kind: 'corrupt'; reason: string };

/** Decodes the record at `offset`; the payload is copied out so the read buffer can be reused. */
export function decodeRecord(buf: Buffer, offset: number): Decoded {
  if (buf.length - offset < HEADER_BYTES) return { kind: 'short', need: HEADER_BYTES };
  const len = buf.readUInt32LE(offset);
  if (len > MAX_PAYLOAD_BYTES) return { kind: 'corrupt', reason: `record length ${len} is implausible` };
  const size = HEADER_BYTES + len;
  if (buf.length - offset < size) return { kind: 'short', need: size };
  const body = buf.subarray(offset + 8, offset + size);
  if (crc32(body) !== buf.readUInt32LE(offset + 4)) return { kind: 'corrupt', reason: 'checksum mismatch' };
  const seq = buf.readDoubleLE(offset + 8);
  const appendedAt = buf.readDoubleLE(offset + 16);
  return { kind: 'record', entry: { seq, appendedAt, payload: Buffer.from(body.subarray(16)) }, size };
}
