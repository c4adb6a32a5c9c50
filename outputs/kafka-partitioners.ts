import { createRequire } from 'node:module';
import { crc32 } from 'node:zlib';
import type { ICustomPartitioner, Message } from 'kafkajs';

/**
 * Falcosidekick's KAFKA_BALANCER values (kafka-go's balancers) as kafkajs partitioners.
 * Messages carry a key (kafka.key), so the hashing balancers keep one rule in one partition; "_random"
 * variants differ only for messages without a key, which go to a random partition.
 */
export const KAFKA_BALANCERS = ['round_robin', 'least_bytes', 'murmur2', 'murmur2_random', 'crc32', 'crc32_random'] as const;
export type KafkaBalancer = (typeof KAFKA_BALANCERS)[number];

// kafkajs (CommonJS) is loaded when a producer is built, not when the registry is imported: ~17 MiB RSS.
const kafkajs = () => createRequire(import.meta.url)('kafkajs') as typeof import('kafkajs');

type Pick = (args: { partitionMetadata: { partitionId: number }[]; message: Message }) => number;

const ids = (p: { partitionId: number }[]) => p.map((x) => x.partitionId).sort((a, b) => a - b);
const randomOf = (p: { partitionId: number }[]) => p[Math.floor(Math.random() * p.length)]!.partitionId;
const keyBytes = (k: Message['key']) => (k === null || k === undefined ? undefined : typeof k === 'string' ? Buffer.from(k) : k);

export function kafkaPartitioner(balancer: KafkaBalancer): ICustomPartitioner {
  switch (balancer) {
    case 'murmur2': return kafkajs().Partitioners.DefaultPartitioner;
    case 'murmur2_random': return () => {
      const murmur = kafkajs().Partitioners.DefaultPartitioner();
      return ((args) => (keyBytes(args.message.key) ? murmur(args as never) : randomOf(args.partitionMetadata))) as Pick;
    };
    case 'crc32':
    case 'crc32_random': return () => ((args) => {
      const key = keyBytes(args.message.key);
      if (!key) return balancer === 'crc32' ? ids(args.partitionMetadata)[0]! : randomOf(args.partitionMetadata);
      const sorted = ids(args.partitionMetadata);
      return sorted[crc32(key) % sorted.length]!;
    }) as Pick;
    case 'least_bytes': return () => {
      // kafka-go's LeastBytes: the partition this producer has written the fewest bytes to.
      const written = new Map<number, number>();
      return ((args) => {
        let best = args.partitionMetadata[0]!.partitionId;
        for (const { partitionId } of args.partitionMetadata) if ((written.get(partitionId) ?? 0) < (written.get(best) ?? 0)) best = partitionId;
        const size = (keyBytes(args.message.key)?.length ?? 0) + (args.message.value ? Buffer.byteLength(args.message.value as Buffer | string) : 0);
        written.set(best, (written.get(best) ?? 0) + size);
        return best;
      }) as Pick;
    };
    case 'round_robin': return () => {
      let next = 0;
      return ((args) => args.partitionMetadata[next++ % args.partitionMetadata.length]!.partitionId) as Pick;
    };
  }
}
