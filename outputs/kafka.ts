import type { Message, Producer, SASLOptions } from 'kafkajs';
import { z } from 'zod';
import { anyCaseEnum } from '../src/config/any-case.ts';
import { KAFKA_BALANCERS, kafkaPartitioner } from './kafka-partitioners.ts';
import type { FalcoAlert } from '../src/alert/alert.ts';
import { priorityTitle } from '../src/alert/priority.ts';
import type { Logger } from '../src/log.ts';
import { DeliveryError, defineOutput, untilAborted } from '../src/router/output.ts';
import { alertJson } from './webhook.ts';

const schema = z.strictObject({
  hostport: z.string().default('').meta({ description: 'Brokers, comma-separated (host:9092); with topic, enables the output.' }),
  topic: z.string().default(''),
  clientid: z.string().default('peregrine'),
  requiredacks: anyCaseEnum(['ALL', 'ONE', 'NONE']).default('ALL').meta({ description: 'Acks waited for (Falcosidekick\'s default NONE loses alerts silently; ours is ALL).' }),
  compression: anyCaseEnum(['NONE', 'GZIP', 'SNAPPY', 'LZ4', 'ZSTD']).default('NONE').meta({ description: 'Codec of produced batches (any case).' }),
  balancer: anyCaseEnum(KAFKA_BALANCERS).default('murmur2').meta({ description: 'murmur2/crc32: partition by key (murmur2 as the Java client); _random: keyless messages to a random partition; round_robin; least_bytes.' }),
  key: z.enum(['rule', 'hostname', 'none']).default('rule').meta({ description: 'Message key: keeps one rule (or host) in one partition, in order.' }),
  sasl: anyCaseEnum(['', 'PLAIN', 'SCRAM_SHA256', 'SCRAM_SHA512']).default(''),
  username: z.string().default(''),
  password: z.string().default(''),
  tls: z.boolean().default(false),
  topiccreation: z.boolean().default(false).meta({ description: 'Let the broker create the topic on first use.' }),
  async: z.boolean().default(false).meta({ description: 'Falcosidekick\'s switch to not block its request on the broker; Peregrine\'s input never waits for outputs, so both values deliver the same way (queued, acked).' }),
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

async function kafkajsPublisher(c: KafkaConfig, log: Logger): Promise<KafkaPublisher> {
  // Loaded only when a kafka output is configured: kafkajs costs ~17 MiB RSS in every router otherwise.
  const [{ Kafka, logLevel }, { KAFKA_COMPRESSIONS, registerKafkaCodecs }] = await Promise.all([import('kafkajs'), import('./kafka-codecs.ts')]);
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
    createPartitioner: kafkaPartitioner(c.balancer),
  });
  registerKafkaCodecs();
  let connected: Promise<void> | undefined;
  const acks = { ALL: -1, ONE: 1, NONE: 0 }[c.requiredacks];
  const compression = KAFKA_COMPRESSIONS[c.compression];
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

export const kafkaOutput = defineOutput({
  type: 'kafka',
  configPath: ['kafka'],
  schema,
  isEnabled: (c) => c.hostport !== '' && c.topic !== '',
  delivery: { maxBatch: 100, concurrency: 1 },
  async create(c, ctx) {
    if (c.sasl && (!c.username || !c.password)) throw new Error(`kafka.sasl ${c.sasl} needs kafka.username and kafka.password`);
    if (c.async) ctx.log.info('kafka.async: the router already queues alerts apart from the HTTP input; they are produced with acks as usual');
    const publisher = await kafkajsPublisher(c, ctx.log);
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
