/**
 * Decodes a batch from the addon: kernel records (struct pg_hdr + blobs, native/peregrine.h) back to
 * back, each padded to 8 bytes. One pass, no per-event call into native code.
 */
import type { AddonLayout } from './addon.ts';

export interface RawEvent {
  /** Kernel event name (layout.names): a syscalls.def name, or "clone", "exec", "exit", "cgroup". */
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
  /** Raw blob slots 2 and 3 (sockaddr, I/O data or cgroup names; tuple / open_how / exe dentry name). */
  blob2: Buffer | undefined;
  blob3: Buffer | undefined;
  /** Raw blob slots 4..7 (exec: 4 = the environment, NUL-separated); undefined entries are empty. */
  more: (Buffer | undefined)[];
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
export const HEADER_SIZE = 136;
/** Blob slots per record (struct pg_hdr blob_len[]). */
const BLOBS = 8;

export function checkLayout(l: AddonLayout & Record<string, unknown>): void {
  const want: Record<string, number> = {
    headerSize: HEADER_SIZE, offTs: OFF_TS, offRet: OFF_RET, offArgs: OFF_ARGS, offSize: OFF_SIZE, offType: OFF_TYPE,
    offFlags: OFF_FLAGS, offPid: OFF_PID, offComm: OFF_COMM, offBlobLen: OFF_BLOBLEN,
  };
  for (const [k, v] of Object.entries(want)) {
    if (l[k] !== v) throw new Error(`capture addon layout mismatch: ${k} is ${String(l[k])}, the decoder expects ${v}`);
  }
}

/** The string types the kernel copies into slot 2 for these kinds are not strings. */
const BYTES_SLOT2 = new Set(['connect', 'bind', 'exec', 'sendto', 'sendmsg', 'recvfrom', 'recvmsg']);

function cstr(b: Buffer, start: number, len: number): string {
  // len counts the terminating NUL when the kernel copied a whole string.
  let end = start + len;
  if (end > start && b[end - 1] === 0) end--;
  return b.toString('utf8', start, end);
}

const NO_MORE: (Buffer | undefined)[] = [];

export function decodeBatch(input: Buffer, names: readonly string[], onEvent: (e: RawEvent) => void): number {
  // Header fields are read through 32-bit views (records are 8-byte aligned); copy if the buffer is not.
  const buf = (input.byteOffset & 7) === 0 ? input : Buffer.from(new Uint8Array(input));
  const u32 = new Uint32Array(buf.buffer, buf.byteOffset, buf.length >>> 2);
  const i32 = new Int32Array(buf.buffer, buf.byteOffset, buf.length >>> 2);
  const i64 = (w: number) => (i32[w + 1]! * 4294967296) + u32[w]!;
  let o = 0;
  let n = 0;
  while (o + HEADER_SIZE <= buf.length) {
    const w = o >>> 2;
    const size = u32[w + (OFF_SIZE >> 2)]!;
    if (size < HEADER_SIZE || o + size > buf.length) break;
    const tf = u32[w + (OFF_TYPE >> 2)]!;
    const kind = names[tf & 0xffff] ?? 'none';
    const aw = w + (OFF_ARGS >> 2);
    const args = [i64(aw), i64(aw + 2), i64(aw + 4), i64(aw + 6), i64(aw + 8), i64(aw + 10)];
    let commEnd = o + OFF_COMM;
    while (commEnd < o + OFF_COMM + 16 && buf[commEnd] !== 0) commEnd++;
    const str: (string | undefined)[] = [undefined, undefined, undefined];
    let blob2: Buffer | undefined;
    let blob3: Buffer | undefined;
    let more: (Buffer | undefined)[] = NO_MORE;
    let p = o + HEADER_SIZE;
    const bl = w + (OFF_BLOBLEN >> 2);
    for (let i = 0; i < BLOBS; i++) {
      const len = (u32[bl + (i >> 1)]! >>> ((i & 1) * 16)) & 0xffff;
      if (len === 0) continue;
      if (p + len > o + size) break;
      if (i >= 4) {
        if (more === NO_MORE) more = [undefined, undefined, undefined, undefined];
        more[i - 4] = buf.subarray(p, p + len);
      } else if (i === 3) blob3 = buf.subarray(p, p + len);
      else if (i === 2 && BYTES_SLOT2.has(kind)) blob2 = buf.subarray(p, p + len);
      else str[i] = kind === 'exec' && i === 1 ? buf.toString('utf8', p, p + len) : cstr(buf, p, len);
      p += len;
    }
    const pw = w + (OFF_PID >> 2);
    onEvent({
      kind,
      mono: buf.readBigUInt64LE(o + OFF_TS),
      ret: i64(w + (OFF_RET >> 2)),
      args,
      pid: u32[pw]!,
      tid: u32[pw + 1]!,
      ppid: u32[pw + 2]!,
      uid: u32[pw + 3]!,
      gid: u32[pw + 4]!,
      loginuid: u32[pw + 5]!,
      euid: u32[pw + 6]!,
      cpu: u32[pw + 7]!,
      comm: buf.toString('latin1', o + OFF_COMM, commEnd),
      truncated: ((tf >>> 16) & 1) !== 0,
      str,
      blob2,
      blob3,
      more,
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
