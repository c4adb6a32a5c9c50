import { CompressionTypes, Kafka, logLevel, Partitioners, type Message, type Producer, type SASLOptions } from 'kafkajs';
import { z } from 'zod';
import type { FalcoAlert } from '../src/alert/alert.ts';
import { priorityTitle } from '../src/alert/priority.ts';
import type { Logger } from '../src/log.ts';
import { DeliveryError, defineOutput, untilAborted } from '../src/router/output.ts';
import { alertJson } from './webhook.ts';

const schema = z.strictObject({
  hostport: z.string().default('').meta({ description: 'Brokers, comma-separated (host:9092); with topic, enables the output.' }),
  topic: z.string().default(''),
  clientid: z.string().default('peregrine'),
  requiredacks: z.enum(['ALL', 'ONE', 'NONE']).default('ALL').meta({ description: 'Acks waited for (Falcosidekick\'s default NONE loses alerts silently; ours is ALL).' }),
  compression: z.enum(['NONE', 'GZIP']).default('NONE').meta({ description: 'NONE or GZIP (snappy/lz4/zstd need codecs not bundled).' }),
  balancer: z.enum(['murmur2', 'round_robin']).default('murmur2').meta({ description: 'murmur2: partition by key (Java client compatible); round_robin: spread evenly.' }),
  key: z.enum(['rule', 'hostname', 'none']).default('rule').meta({ description: 'Message key: keeps one rule (or host) in one partition, in order.' }),
  sasl: z.enum(['', 'PLAIN', 'SCRAM_SHA256', 'SCRAM_SHA512']).default(''),
  username: z.string().default(''),
  password: z.string().default(''),
  tls: z.boolean().default(false),
  topiccreation: z.boolean().default(false).meta({ description: 'Let the broker create the topic on first use.' }),
});
type KafkaConfig = z.output<typeof schema>;

/** The broker client behind this module: the router never sees kafkajs, so it could be swapped. */
interface KafkaPublisher {
  publish(messages: Message[]): Promise<void>;
  close(): Promise<void>;
}

export function kafkaMessage(a: FalcoAlert, key: KafkaConfig['key']): Message {
  return {
    key: key === 'rule' ? a.rule : key === 'hostname' ? a.hostname || null : null,
    value: alertJson(a),
    headers: { priority: priorityTitle(a.priority), rule: a.rule, source: a.source },
  };
}

function saslOptions(c: KafkaConfig): SASLOptions | undefined {
  if (!c.sasl) return undefined;
  const mechanism = ({ PLAIN: 'plain', SCRAM_SHA256: 'scram-sha-256', SCRAM_SHA512: 'scram-sha-512' } as const)[c.sasl];
  return { mechanism, username: c.username, password: c.password } as SASLOptions;
}

function kafkajsPublisher(c: KafkaConfig, log: Logger): KafkaPublisher {
  const kafka = new Kafka({
    clientId: c.clientid,
    brokers: c.hostport.split(',').map((s) => s.trim()).filter(Boolean),
    ssl: c.tls,
    ...(c.sasl ? { sasl: saslOptions(c)! } : {}),
    connectionTimeout: 3000,
    requestTimeout: 5000,
    // Retries belong to the router's delivery layer: one policy, counted in metrics.
    retry: { retries: 0 },
    logLevel: logLevel.WARN,
    logCreator: () => ({ namespace, level, log: entry }) => {
      if (level <= logLevel.WARN) log.warn({ kafka: namespace }, String(entry?.message ?? ''));
    },
  });
  const producer: Producer = kafka.producer({
    allowAutoTopicCreation: c.topiccreation,
    createPartitioner: c.balancer === 'round_robin' ? roundRobin : Partitioners.DefaultPartitioner,
  });
  let connected: Promise<void> | undefined;
  const acks = { ALL: -1, ONE: 1, NONE: 0 }[c.requiredacks];
  const compression = c.compression === 'GZIP' ? CompressionTypes.GZIP : CompressionTypes.None;
  return {
    async publish(messages) {
      connected ??= producer.connect().catch((err: unknown) => { connected = undefined; throw err; });
      await connected;
      try {
        await producer.send({ topic: c.topic, messages, acks, compression });
      } catch (err) {
        // A broken connection is re-made on the next attempt.
        connected = undefined;
        await producer.disconnect().catch(() => {});
        throw err;
      }
    },
    close: () => producer.disconnect(),
  };
}

const roundRobin = () => {
  let next = 0;
  return ({ partitionMetadata }: { partitionMetadata: { partitionId: number }[] }) => partitionMetadata[next++ % partitionMetadata.length]!.partitionId;
};

export const kafkaOutput = defineOutput({
  type: 'kafka',
  configPath: ['kafka'],
  schema,
  isEnabled: (c) => c.hostport !== '' && c.topic !== '',
  delivery: { maxBatch: 100, concurrency: 1 },
  create(c, ctx) {
    if (c.sasl && (!c.username || !c.password)) throw new Error(`kafka.sasl ${c.sasl} needs kafka.username and kafka.password`);
    const publisher = kafkajsPublisher(c, ctx.log);
    return {
      async send(alerts, signal) {
        try {
          await untilAborted(publisher.publish(alerts.map((a) => kafkaMessage(a, c.key))), signal, 'kafka');
        } catch (err) {
          if (err instanceof DeliveryError) throw err;
          const e = err as { name?: string; message?: string; retriable?: boolean; type?: string };
          // Authorization and unknown-topic (without topiccreation) do not heal by waiting.
          const fatal = e.type === 'TOPIC_AUTHORIZATION_FAILED' || e.type === 'SASL_AUTHENTICATION_FAILED';
          throw new DeliveryError(`kafka: ${e.name ?? 'error'}: ${e.message ?? String(err)}`, { retryable: !fatal, cause: err });
        }
      },
      close: () => publisher.close(),
    };
  },
});
