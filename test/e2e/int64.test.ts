// 64-bit integers stay exact end to end, as Falco writes them: through the HTTP input and through the
// detector (`peregrine run`), out of every output to a real destination: NATS, Kafka, SNS (moto, via SQS),
// a webhook receiver and a Slack-compatible receiver. JSON.parse alone would turn 1470327477881781397
// into 1470327477881781500.
import { after, before, describe, test } from 'node:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { parseJson } from '../../src/alert/json.ts';
import { falcoAlert } from '../support/alerts.ts';
import { startDetector } from '../support/detector.ts';
import { eventually } from '../support/eventually.ts';
import { HttpReceiver } from '../support/http-receiver.ts';
import { startRouter } from '../support/router.ts';
import { KafkaBroker } from '../services/kafka.ts';
import { MotoServer } from '../services/moto.ts';
import { NatsServer } from '../services/nats.ts';

process.env.AWS_ACCESS_KEY_ID = 'testing';
process.env.AWS_SECRET_ACCESS_KEY = 'testing';

const NS = '1470327477881781397';
const MIN_I64 = '-9223372036854775808';
const MAX_U64 = '18446744073709551615';

/** The raw texts the broker destinations received (the HTTP receivers keep their own), to look for the literals in. */
interface Destinations { nats: string[]; kafka: string[]; sns: string[]; snsAttrs: Record<string, { Type: string; Value: string }>[] }

describe('int64 fields round-trip exactly through input, detector and every output', () => {
  let nats: NatsServer;
  let natsClient: NatsConnection;
  let broker: KafkaBroker;
  let consumer: Consumer;
  let moto: MotoServer;
  let sqs: SQSClient;
  let topicArn: string;
  let queueUrl: string;
  let webhook: HttpReceiver;
  let slack: HttpReceiver;
  const got: Destinations = { nats: [], kafka: [], sns: [], snsAttrs: [] };

  before(async () => {
    [nats, broker, moto, webhook, slack] = await Promise.all([NatsServer.start(), KafkaBroker.start(), MotoServer.start(), HttpReceiver.start(), HttpReceiver.start()]);
    natsClient = await connect({ servers: nats.url });
    natsClient.subscribe('falco.>', { callback: (_e, m) => { got.nats.push(m.string()); } });
    await natsClient.flush();
    const kafka = new Kafka({ brokers: [broker.bootstrap], clientId: 'int64-test', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'falco' }], waitForLeaders: true });
    await admin.disconnect();
    consumer = kafka.consumer({ groupId: `int64-${Date.now()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: 'falco', fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => { got.kafka.push(message.value!.toString('utf8')); } });
    const aws = { region: 'us-east-1', endpoint: moto.url };
    sqs = new SQSClient(aws);
    topicArn = (await new SNSClient(aws).send(new CreateTopicCommand({ Name: 'falco' }))).TopicArn!;
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'falco' }))).QueueUrl!;
    const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    await new SNSClient(aws).send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
  });
  after(async () => {
    await consumer?.disconnect();
    await natsClient?.close();
    await Promise.all([nats?.stop(), broker?.stop(), moto?.stop(), webhook?.close(), slack?.close()]);
  });

  /** Every output, plus a second SNS instance without rawjson for the Number attributes. */
  const outputsYaml = () => `
webhook: { address: "${webhook.url}/hook" }
slack: { webhookurl: "${slack.url}/services/T/B/X", delivery: { ratepersecond: 0 } }
nats: { hostport: "${nats.url}" }
kafka: { hostport: "${broker.bootstrap}", topic: falco }
aws: { region: us-east-1, endpoint: "${moto.url}", sns: { topicarn: "${topicArn}", rawjson: true } }
outputs:
  - { name: sns-attributes, type: awssns, topicarn: "${topicArn}", region: us-east-1, endpoint: "${moto.url}", rawjson: false }
`;

  async function drainSqs(until: () => boolean): Promise<void> {
    const deadline = Date.now() + 30000;
    while (!until() && Date.now() < deadline) {
      const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      for (const m of r.Messages ?? []) {
        const envelope = JSON.parse(m.Body!) as { Message: string; MessageAttributes?: Record<string, { Type: string; Value: string }> };
        got.sns.push(envelope.Message);
        if (envelope.MessageAttributes) got.snsAttrs.push(envelope.MessageAttributes);
      }
    }
  }

  /** The raw text must carry the literal; parsed exactly it gives the bigint back. */
  function assertExact(where: string, texts: string[], marker: string, field: string, literal: string): void {
    const text = texts.find((t) => t.includes(marker));
    assert.ok(text, `${where}: an alert carrying ${marker} arrived (got ${texts.length})`);
    assert.ok(text.includes(literal), `${where}: ${literal} appears as sent in ${text.slice(0, 400)}`);
    const fields = (parseJson(text) as { output_fields: Record<string, unknown> }).output_fields;
    assert.equal(fields[field], BigInt(literal), `${where}: ${field}`);
  }

  test('an alert POSTed to the HTTP input', async () => {
    const r = await startRouter(outputsYaml());
    try {
      // The body as Falco writes it: integers as literals, not strings.
      const body = JSON.stringify(falcoAlert({ rule: 'int64 over http', output_fields: { 'fd.name': '/etc/shadow', marker: 'http' } }))
        .replace('"marker":"http"', `"marker":"http","evt.time":${NS},"min":${MIN_I64},"nested":{"inode":${MAX_U64}}`);
      const res = await fetch(`${r.url}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(res.status, 200, await res.text());
      await eventually(() => {
        assert.ok(webhook.requests.some((q) => q.body.includes('"http"')) && slack.requests.some((q) => q.body.includes('int64 over http')));
        assert.ok(got.nats.some((t) => t.includes('"http"')) && got.kafka.some((t) => t.includes('"http"')));
      }, 30000);
      await drainSqs(() => got.sns.some((t) => t.includes('"http"')) && got.snsAttrs.some((a) => a.marker?.Value === 'http'));
      const hooks = webhook.requests.map((q) => q.body);
      assertExact('webhook', hooks, '"http"', 'evt.time', NS);
      assertExact('webhook', hooks, '"http"', 'min', MIN_I64);
      assert.equal(((parseJson(hooks.find((t) => t.includes('"http"'))!) as { output_fields: { nested: { inode: bigint } } }).output_fields.nested.inode), BigInt(MAX_U64));
      assertExact('nats', got.nats, '"http"', 'evt.time', NS);
      assertExact('kafka', got.kafka, '"http"', 'evt.time', NS);
      assertExact('kafka', got.kafka, '"http"', 'min', MIN_I64);
      assertExact('sns rawjson', got.sns.filter((t) => t.startsWith('{')), '"http"', 'evt.time', NS);
      // rawjson false: the field is a Number attribute with every digit.
      const attrs = got.snsAttrs.find((a) => a.marker?.Value === 'http');
      assert.ok(attrs, 'the attribute message arrived');
      assert.deepEqual(attrs['evt.time'], { Type: 'Number', Value: NS });
      // Slack shows the field's value as text: every digit.
      const slackBody = slack.requests.map((q) => q.body).find((t) => t.includes('int64 over http'))!;
      assert.ok(slackBody.includes(`"value":"${NS}"`), slackBody.slice(0, 600));
      assert.ok(slackBody.includes(MAX_U64));
    } finally {
      await r.router.close({ drainMs: 2000 });
    }
  });

  test('an alert the detector raises: evt.time in ns on stdout and at every output', async () => {
    const stamp = '2026-11-22T10:20:05.408091526Z';
    const ns = (BigInt(Date.parse('2026-11-22T10:20:05Z')) * 1_000_000n + 408091526n).toString();
    const det = await startDetector({
      config: `${outputsYaml()}detector:\n  jsonoutput: true\n  defaultrules: false\n  capture:\n    enabled: false\n`,
      rules: [ruleFile()],
    });
    try {
      const event = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', verb: 'create', stage: 'ResponseComplete', stageTimestamp: stamp,
        user: { username: 'int64-user' }, objectRef: { resource: 'pods', namespace: 'default' } };
      const res = await fetch(`${det.url}/k8s-audit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) });
      assert.equal(res.status, 200);
      await eventually(() => assert.ok(det.output().includes('int64 audit rule')), 10000);
      const line = det.output().split('\n').find((l) => l.includes('"rule":"int64 audit rule"'))!;
      assert.ok(line.includes(`"evt.time":${ns}`), `stdout: ${line}`);
      const marker = 'int64-user';
      await eventually(() => {
        assert.ok(webhook.requests.some((q) => q.body.includes(marker)) && slack.requests.some((q) => q.body.includes(marker)));
        assert.ok(got.nats.some((t) => t.includes(marker)) && got.kafka.some((t) => t.includes(marker)));
      }, 30000);
      await drainSqs(() => got.sns.some((t) => t.includes(marker)) && got.snsAttrs.some((a) => a['ka.user.name']?.Value === marker));
      assertExact('webhook', webhook.requests.map((q) => q.body), marker, 'evt.time', ns);
      assertExact('nats', got.nats, marker, 'evt.time', ns);
      assertExact('kafka', got.kafka, marker, 'evt.time', ns);
      assertExact('sns rawjson', got.sns.filter((t) => t.startsWith('{')), marker, 'evt.time', ns);
      assert.deepEqual(got.snsAttrs.find((a) => a['ka.user.name']?.Value === marker)?.['evt.time'], { Type: 'Number', Value: ns });
      assert.ok(slack.requests.find((q) => q.body.includes(marker))!.body.includes(`"value":"${ns}"`));
    } finally {
      assert.equal(await det.stop(), 0);
    }
  });
});

/** A one-rule file for k8s audit events, written for this test. */
function ruleFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'prg-int64-'));
  const file = join(dir, 'rules.yaml');
  writeFileSync(file, `- rule: int64 audit rule
  desc: any audit event by int64-user
  condition: ka.user.name = "int64-user"
  output: audit event by %ka.user.name
  priority: WARNING
  source: k8s_audit
`);
  return file;
}
