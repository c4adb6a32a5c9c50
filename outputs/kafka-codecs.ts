import { createRequire } from 'node:module';
import { zstdCompress, zstdDecompress } from 'node:zlib';
import { promisify } from 'node:util';
import kafkajs from 'kafkajs';

/**
 * Kafka's SNAPPY, LZ4 and ZSTD codecs for kafkajs, which bundles only GZIP. All three install from the
 * registry without native builds: snappy is kafkajs-snappy (snappyjs; it also reads the xerial framing
 * Java producers write), LZ4 is the LZ4 frame format Kafka uses (lz4js), ZSTD is Node's own zlib.
 */
interface Codec { compress(encoder: { buffer: Buffer }): Promise<Buffer>; decompress(buffer: Buffer): Promise<Buffer> }

// kafkajs is CommonJS: its codec table is reachable from the default export only.
const { CompressionCodecs, CompressionTypes } = kafkajs;
const require = createRequire(import.meta.url);
const snappyCodec = require('kafkajs-snappy') as () => Codec;
const lz4 = require('lz4js') as {
  decompress(src: Uint8Array): Uint8Array;
  compressBound(n: number): number;
  compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
};
const xxh32 = require('lz4js/xxh32.js') as { hash(seed: number, src: Uint8Array, index: number, length: number): number };

const zstd = promisify(zstdCompress);
const unzstd = promisify(zstdDecompress);

const LZ4_BLOCK = 64 * 1024;

/**
 * An LZ4 frame as Kafka's brokers read it: independent 64 KiB blocks, flagged so (lz4js' own frame
 * writer leaves the block-independence flag unset, which the broker refuses).
 */
export function lz4Frame(src: Uint8Array): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0]); // magic, FLG v1 + independent, BD 64 KiB
  header[6] = (xxh32.hash(0, header, 4, 2) >>> 8) & 0xff;
  parts.push(header);
  for (let at = 0; at < src.length; at += LZ4_BLOCK) {
    const chunk = src.subarray(at, Math.min(at + LZ4_BLOCK, src.length));
    const out = Buffer.alloc(lz4.compressBound(chunk.length));
    const n = lz4.compressBlock(chunk, out, 0, chunk.length, new Uint32Array(1 << 16));
    const size = Buffer.alloc(4);
    if (n === 0 || n >= chunk.length) {
      size.writeUInt32LE((chunk.length | 0x80000000) >>> 0);
      parts.push(size, Buffer.from(chunk));
    } else {
      size.writeUInt32LE(n);
      parts.push(size, out.subarray(0, n));
    }
  }
  parts.push(Buffer.alloc(4)); // end mark
  return Buffer.concat(parts);
}

const lz4Codec = (): Codec => ({
  compress: async (encoder) => lz4Frame(encoder.buffer),
  decompress: async (buffer) => Buffer.from(lz4.decompress(buffer)),
});

const zstdCodec = (): Codec => ({
  compress: (encoder) => zstd(encoder.buffer),
  decompress: (buffer) => unzstd(buffer),
});

let registered = false;

/** Registers the codecs in kafkajs (a process-wide table); idempotent. */
export function registerKafkaCodecs(): void {
  if (registered) return;
  const table = CompressionCodecs as unknown as Record<number, () => Codec>;
  table[CompressionTypes.Snappy] = snappyCodec;
  table[CompressionTypes.LZ4] = lz4Codec;
  table[CompressionTypes.ZSTD] = zstdCodec;
  registered = true;
}

/** Falcosidekick's compression names (any case) -> kafkajs' codec ids. */
export const KAFKA_COMPRESSIONS = {
  NONE: CompressionTypes.None, GZIP: CompressionTypes.GZIP, SNAPPY: CompressionTypes.Snappy,
  LZ4: CompressionTypes.LZ4, ZSTD: CompressionTypes.ZSTD,
} as const;
