/**
 * Decodes a batch from the addon: kernel records (struct pg_hdr + blobs, native/peregrine.h) back to
 * back, each padded to 8 bytes. One pass, no per-event call into native code.
 */
import type { AddonLayout } from './addon.ts';

export interface RawEvent {
  /** Kernel event name (layout.names): a syscalls.def name, or "clone", "exec", "exit". */
  kind: string;
  /** CLOCK_MONOTONIC ns. */
  mono: bigint;
  ret: number;
  /** The six raw syscall arguments (64-bit registers as numbers; pointers beyond 2^53 lose precision). */
  args: number[];
  pid: number;
  tid: number;
  ppid: number;
  uid: number;
  gid: number;
  loginuid: number;
  euid: number;
  cpu: number;
  comm: string;
  truncated: boolean;
  /** User strings in blob slots 0..2 (undefined when the slot is empty or holds bytes). */
  str: (string | undefined)[];
  /** Raw blob slots 2 and 3 (sockaddr / cgroup names; tuple / open_how / exe dentry name). */
  blob2: Buffer | undefined;
  blob3: Buffer | undefined;
}

// Offsets of struct pg_hdr (checked against the addon's layout at start).
const OFF_TS = 0;
const OFF_RET = 8;
const OFF_ARGS = 16;
const OFF_SIZE = 64;
const OFF_TYPE = 68;
const OFF_FLAGS = 70;
const OFF_PID = 72;
const OFF_COMM = 104;
const OFF_BLOBLEN = 120;
export const HEADER_SIZE = 128;

export function checkLayout(l: AddonLayout & Record<string, unknown>): void {
  const want: Record<string, number> = {
    headerSize: HEADER_SIZE, offTs: OFF_TS, offRet: OFF_RET, offArgs: OFF_ARGS, offSize: OFF_SIZE, offType: OFF_TYPE,
    offFlags: OFF_FLAGS, offPid: OFF_PID, offComm: OFF_COMM, offBlobLen: OFF_BLOBLEN,
  };
  for (const [k, v] of Object.entries(want)) {
    if (l[k] !== v) throw new Error(`capture addon layout mismatch: ${k} is ${String(l[k])}, the decoder expects ${v}`);
  }
}

function i64(b: Buffer, o: number): number {
  return b.readInt32LE(o + 4) * 4294967296 + b.readUInt32LE(o);
}

/** The string types the kernel copies into slot 2 for these kinds are not strings. */
const BYTES_SLOT2 = new Set(['connect', 'bind', 'exec']);

function cstr(b: Buffer, start: number, len: number): string {
  // len counts the terminating NUL when the kernel copied a whole string.
  let end = start + len;
  if (end > start && b[end - 1] === 0) end--;
  return b.toString('utf8', start, end);
}

export function decodeBatch(buf: Buffer, names: readonly string[], onEvent: (e: RawEvent) => void): number {
  let o = 0;
  let n = 0;
  while (o + HEADER_SIZE <= buf.length) {
    const size = buf.readUInt32LE(o + OFF_SIZE);
    if (size < HEADER_SIZE || o + size > buf.length) break;
    const kind = names[buf.readUInt16LE(o + OFF_TYPE)] ?? 'none';
    const args = [i64(buf, o + OFF_ARGS), i64(buf, o + OFF_ARGS + 8), i64(buf, o + OFF_ARGS + 16),
      i64(buf, o + OFF_ARGS + 24), i64(buf, o + OFF_ARGS + 32), i64(buf, o + OFF_ARGS + 40)];
    let commEnd = o + OFF_COMM;
    while (commEnd < o + OFF_COMM + 16 && buf[commEnd] !== 0) commEnd++;
    const str: (string | undefined)[] = [undefined, undefined, undefined];
    let blob2: Buffer | undefined;
    let blob3: Buffer | undefined;
    let p = o + HEADER_SIZE;
    for (let i = 0; i < 4; i++) {
      const len = buf.readUInt16LE(o + OFF_BLOBLEN + 2 * i);
      if (len === 0) continue;
      if (p + len > o + size) break;
      if (i === 3) blob3 = buf.subarray(p, p + len);
      else if (i === 2 && BYTES_SLOT2.has(kind)) blob2 = buf.subarray(p, p + len);
      else str[i] = kind === 'exec' && i === 1 ? buf.toString('utf8', p, p + len) : cstr(buf, p, len);
      p += len;
    }
    onEvent({
      kind,
      mono: buf.readBigUInt64LE(o + OFF_TS),
      ret: i64(buf, o + OFF_RET),
      args,
      pid: buf.readUInt32LE(o + OFF_PID),
      tid: buf.readUInt32LE(o + OFF_PID + 4),
      ppid: buf.readUInt32LE(o + OFF_PID + 8),
      uid: buf.readUInt32LE(o + OFF_PID + 12),
      gid: buf.readUInt32LE(o + OFF_PID + 16),
      loginuid: buf.readUInt32LE(o + OFF_PID + 20),
      euid: buf.readUInt32LE(o + OFF_PID + 24),
      cpu: buf.readUInt32LE(o + OFF_PID + 28),
      comm: buf.toString('utf8', o + OFF_COMM, commEnd),
      truncated: (buf.readUInt16LE(o + OFF_FLAGS) & 1) !== 0,
      str,
      blob2,
      blob3,
    });
    n++;
    o += (size + 7) & ~7;
  }
  return n;
}

/** Socket tuple blob (struct pg_tuple). */
export interface Tuple {
  family: number;
  type: number;
  proto: number;
  laddr: string;
  lport: number;
  raddr: string;
  rport: number;
}

export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;

export function ipText(b: Buffer, o: number, family: number): string {
  if (family === AF_INET) return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(b.readUInt16BE(o + i).toString(16));
  // Compress the longest run of zero groups (RFC 5952).
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (parts[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && parts[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return parts.join(':');
  return `${parts.slice(0, best).join(':')}::${parts.slice(best + bestLen).join(':')}`;
}

export function decodeTuple(b: Buffer | undefined): Tuple | undefined {
  if (!b || b.length < 44) return undefined;
  const family = b.readUInt16LE(0);
  const ip = family === AF_INET || family === AF_INET6;
  return {
    family,
    type: b.readUInt16LE(2),
    proto: b.readUInt16LE(4),
    lport: b.readUInt16LE(6),
    rport: b.readUInt16LE(8),
    laddr: ip ? ipText(b, 12, family) : '',
    raddr: ip ? ipText(b, 28, family) : '',
  };
}

/** A user sockaddr blob: IPv4/IPv6 address and port, or a unix path. */
export interface SockAddr {
  family: number;
  addr: string;
  port: number;
}

export function decodeSockaddr(b: Buffer | undefined): SockAddr | undefined {
  if (!b || b.length < 2) return undefined;
  const family = b.readUInt16LE(0);
  if (family === AF_INET && b.length >= 8) return { family, port: b.readUInt16BE(2), addr: ipText(b, 4, family) };
  if (family === AF_INET6 && b.length >= 24) return { family, port: b.readUInt16BE(2), addr: ipText(b, 8, family) };
  if (family === AF_UNIX) {
    let end = 2;
    // Abstract sockets start with a NUL; show them as "@name" like ss(8) does.
    const abstract = b.length > 2 && b[2] === 0;
    const start = abstract ? 3 : 2;
    end = start;
    while (end < b.length && b[end] !== 0) end++;
    return { family, port: 0, addr: (abstract ? '@' : '') + b.toString('utf8', start, end) };
  }
  return { family, addr: '', port: 0 };
}
