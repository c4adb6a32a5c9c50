import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, type Consumer, type EachMessagePayload } from 'kafkajs';
import { loadConfig } from '../../src/config/load.ts';
import { createRouter, type Router } from '../../src/router/router.ts';
import { falcoAlert, postAlert } from '../support/alerts.ts';
import { eventually } from '../support/eventually.ts';
import { metricValue } from '../support/metrics.ts';
import { KafkaBroker } from '../services/kafka.ts';
import { registerKafkaCodecs } from '../../outputs/kafka-codecs.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RouteProcess } from '../support/route-process.ts';

interface Got { key: string | null; value: Record<string, unknown>; headers: Record<string, string> }

// One broker for the file: a JVM start costs seconds.
describe('Kafka output against a real broker (KRaft, single node)', () => {
  let broker: KafkaBroker;
  let kafka: Kafka;
  before(async () => {
    broker = await KafkaBroker.start();
    kafka = new Kafka({ brokers: [broker.bootstrap], clientId: 'test', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'falco' }, { topic: 'falco-fault' }, { topic: 'falco-codecs', numPartitions: 3 }, { topic: 'falco-cli' }], waitForLeaders: true });
    await admin.disconnect();
  });
  after(async () => { await broker?.stop(); });

  async function consume(topic: string, got: Got[]): Promise<Consumer> {
    const consumer = kafka.consumer({ groupId: `g-${topic}-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }: EachMessagePayload) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        got.push({ key: message.key?.toString() ?? null, value: JSON.parse(message.value!.toString()), headers });
      },
    });
    return consumer;
  }

  async function startRouter(kafkaYaml: string): Promise<{ router: Router; url: string }> {
    const router = await createRouter(loadConfig({ env: {}, yamlText: `listenaddress: 127.0.0.1\nlistenport: 0\nkafka:\n${kafkaYaml}` }));
    const { port } = await router.listen();
    return { router, url: `http://127.0.0.1:${port}` };
  }

  test('alerts through the router are consumed with key, headers and the alert JSON', async () => {
    const got: Got[] = [];
    const consumer = await consume('falco', got);
    const r = await startRouter(`  hostport: ${broker.bootstrap}\n  topic: falco\n  minimumpriority: notice\n`);
    try {
      await postAlert(r.url, falcoAlert({ priority: 'Critical', rule: 'Terminal shell in container' }));
      await postAlert(r.url, falcoAlert({ priority: 'Debug', rule: 'filtered' }));
      await postAlert(r.url, falcoAlert());
      await eventually(() => assert.equal(got.length, 2), 30000);
      const shell = got.find((g) => g.key === 'Terminal shell in container')!;
      assert.ok(shell, 'message keyed by rule');
      assert.deepEqual(shell.headers, { priority: 'Critical', rule: 'Terminal shell in container', source: 'syscall' });
      assert.equal(shell.value.priority, 'Critical');
      assert.equal((shell.value.output_fields as Record<string, unknown>)['fd.name'], '/etc/shadow');
      assert.ok(!got.some((g) => g.key === 'filtered'));
    } finally {
      await consumer.disconnect();
      await r.router.close({ drainMs: 2000 });
    }
  });

  test('alerts sent while the broker is down are retried and delivered after it restarts', async () => {
    const r = await startRouter(`  hostport: ${broker.bootstrap}\n  topic: falco-fault\n  delivery: { initialbackoffms: 200, maxbackoffms: 1000, maxretries: 200, timeoutms: 5000 }\n`);
    const got: Got[] = [];
    let consumer: Consumer | undefined;
    try {
      await postAlert(r.url, falcoAlert({ output_fields: { n: 0 } }));
      await eventually(async () => assert.equal(metricValue(await r.router.metricsText(), 'peregrine_output_alerts_total', { output: 'kafka', result: 'sent' }), 1), 30000);

      await broker.stop();
      for (let n = 1; n <= 5; n++) assert.equal((await postAlert(r.url, falcoAlert({ output_fields: { n } }))).status, 200);
      await eventually(async () => assert.ok(metricValue(await r.router.metricsText(), 'peregrine_output_retries_total', { output: 'kafka' }) >= 1), 20000);
      await broker.start();

      consumer = await consume('falco-fault', got);
      await eventually(() => assert.equal(new Set(got.map((g) => (g.value.output_fields as { n: number }).n)).size, 6), 60000);
      const m = await r.router.metricsText();
      assert.equal(metricValue(m, 'peregrine_output_alerts_total', { output: 'kafka', result: 'sent' }), 6);
      assert.equal(metricValue(m, 'peregrine_output_alerts_total', { output: 'kafka', result: 'dropped' }), 0);
      assert.equal(metricValue(m, 'peregrine_output_alerts_total', { output: 'kafka', result: 'failed' }), 0);
    } finally {
      await consumer?.disconnect();
      await r.router.close({ drainMs: 2000 });
    }
  });

  // The broker decompresses and validates every batch it stores, so a wrong codec is refused here.
  test('every compression Falcosidekick accepts (any case) and every balancer produce to the broker', async () => {
    registerKafkaCodecs(); // the test's consumer decompresses with the same table
    const got: Got[] = [];
    const consumer = await consume('falco-codecs', got);
    const cases = [
      ['snappy', 'least_bytes'], ['LZ4', 'crc32'], ['zstd', 'murmur2_random'], ['GZIP', 'crc32_random'], ['none', 'round_robin'],
    ] as const;
    try {
      for (const [compression, balancer] of cases) {
        const r = await startRouter(`  hostport: ${broker.bootstrap}\n  topic: falco-codecs\n  compression: ${compression}\n  balancer: ${balancer}\n`);
        try {
          // A batch of several alerts with a long repeated field, so every codec really compresses.
          for (let n = 0; n < 5; n++) await postAlert(r.url, falcoAlert({ rule: `rule ${n}`, output_fields: { codec: compression, n, pad: 'x'.repeat(2000) } }));
          await eventually(async () => assert.equal(metricValue(await r.router.metricsText(), 'falcosecurity_falcosidekick_outputs_total', { destination: 'kafka', status: 'ok' }), 5), 30000);
        } finally {
          await r.router.close({ drainMs: 2000 });
        }
      }
      await eventually(() => assert.equal(got.length, 5 * cases.length), 30000);
      for (const [compression] of cases) {
        const mine = got.filter((g) => (g.value.output_fields as { codec: string }).codec === compression);
        assert.deepEqual(mine.map((g) => (g.value.output_fields as { n: number }).n).sort(), [0, 1, 2, 3, 4], compression);
      }
    } finally {
      await consumer.disconnect();
    }
  });

  // kafkajs 2.2.4 arms its request queue's throttle check at throttledUntil - Date.now() with throttledUntil -1,
  // and Node 24 then printed a TimeoutNegativeWarning on stderr of every process with a Kafka output.
  test('peregrine route (the real CLI) with a Kafka output delivers and writes nothing to stderr', async () => {
    const got: Got[] = [];
    const consumer = await consume('falco-cli', got);
    const dir = mkdtempSync(join(tmpdir(), 'peregrine-kafka-cli-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `listenaddress: 127.0.0.1\nlistenport: 0\nui: { enabled: false }\nkafka: { hostport: "${broker.bootstrap}", topic: falco-cli }\n`);
    const proc = await RouteProcess.start(config, 20_000, { asInstalled: true });
    let exit: { code: number | null } = { code: null };
    try {
      assert.equal((await postAlert(proc.url, falcoAlert({ rule: 'via the CLI' }))).status, 200);
      await eventually(() => assert.ok(got.some((g) => g.key === 'via the CLI')), 30000);
    } finally {
      exit = await proc.term();
      await consumer.disconnect();
    }
    assert.equal(exit.code, 0);
    assert.equal(proc.stderr.text, '');
  });
});
