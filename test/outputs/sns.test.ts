import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { loadConfig } from '../../src/config/load.ts';
import { createRouter, type Router } from '../../src/router/router.ts';
import { parseAlert } from '../../src/router/input.ts';
import { SNS_MAX_ATTRIBUTES, snsAttributes } from '../../outputs/sns.ts';
import { falcoAlert, postAlert } from '../support/alerts.ts';
import { MotoServer } from '../services/moto.ts';
import { HttpReceiver } from '../support/http-receiver.ts';

// The SDK's default credential chain reads these; moto accepts any.
process.env.AWS_ACCESS_KEY_ID = 'testing';
process.env.AWS_SECRET_ACCESS_KEY = 'testing';

test('attributes: priority, rule, source, tags, hostname, then fields, never more than 10', () => {
  const fields: Record<string, number | string> = {};
  for (let i = 0; i < 20; i++) fields[`field.${String(i).padStart(2, '0')}`] = i;
  const r = parseAlert(falcoAlert({ output_fields: { ...fields, 'proc.aname[2]': 'bash' } }));
  assert.ok(r.ok);
  const attrs = snsAttributes(r.alert);
  assert.equal(Object.keys(attrs).length, SNS_MAX_ATTRIBUTES);
  assert.deepEqual(Object.keys(attrs).slice(0, 5), ['priority', 'rule', 'source', 'tags', 'hostname']);
  assert.deepEqual(attrs['field.00'], { DataType: 'Number', StringValue: '0' });
  assert.equal(attrs.priority!.StringValue, 'Warning');
});

describe('SNS output against moto (SNS -> SQS)', () => {
  let moto: MotoServer;
  let sqs: SQSClient;
  let topicArn: string;
  let queueUrl: string;
  before(async () => {
    moto = await MotoServer.start();
    const aws = { region: 'us-east-1', endpoint: moto.url };
    const sns = new SNSClient(aws);
    sqs = new SQSClient(aws);
    topicArn = (await sns.send(new CreateTopicCommand({ Name: 'falco-alerts' }))).TopicArn!;
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'falco-alerts' }))).QueueUrl!;
    const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
  });
  after(async () => { await moto?.stop(); });

  async function receive(count: number): Promise<Message[]> {
    const got: Message[] = [];
    const deadline = Date.now() + 15000;
    while (got.length < count && Date.now() < deadline) {
      const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      got.push(...(r.Messages ?? []));
    }
    return got;
  }

  test('alerts published through the router arrive in the subscribed queue with attributes', async () => {
    const router: Router = await createRouter(loadConfig({
      yamlText: `listenaddress: 127.0.0.1\nlistenport: 0\naws:\n  region: us-east-1\n  endpoint: ${moto.url}\n  sns:\n    topicarn: ${topicArn}\n    rawjson: true\n    minimumpriority: warning\n`,
      env: {},
    }));
    const { port } = await router.listen();
    try {
      await postAlert(`http://127.0.0.1:${port}`, falcoAlert({ priority: 'Critical' }));
      await postAlert(`http://127.0.0.1:${port}`, falcoAlert({ priority: 'Debug', rule: 'filtered' }));
      const [msg, ...rest] = await receive(1);
      assert.ok(msg, 'a message reached the queue');
      const envelope = JSON.parse(msg.Body!) as { Message: string; MessageAttributes: Record<string, { Type: string; Value: string }> };
      const alert = JSON.parse(envelope.Message) as Record<string, unknown>;
      assert.equal(alert.rule, 'Read sensitive file untrusted');
      assert.equal(alert.priority, 'Critical');
      assert.equal(envelope.MessageAttributes.priority!.Value, 'Critical');
      assert.equal(envelope.MessageAttributes.source!.Value, 'syscall');
      assert.equal(envelope.MessageAttributes.tags!.Value, 'filesystem,mitre_credential_access');
      assert.ok(Object.keys(envelope.MessageAttributes).length <= SNS_MAX_ATTRIBUTES);
      assert.deepEqual([...rest, ...(await receive(1))].length, 0, 'the Debug alert was filtered out');
    } finally {
      await router.close({ drainMs: 1000 });
    }
  });

  test('env overrides with Falcosidekick names configure it (AWS_SNS_TOPICARN)', async () => {
    const config = loadConfig({ env: { AWS_SNS_TOPICARN: topicArn, AWS_REGION: 'us-east-1', AWS_ENDPOINT: moto.url, UI_ENABLED: 'false' } });
    const router = await createRouter(config);
    try {
      assert.deepEqual(router.outputs.map((o) => o.type), ['awssns']);
      router.submit(falcoAlert({ output: 'plain output line' }));
      const [msg] = await receive(1);
      assert.equal((JSON.parse(msg!.Body!) as { Message: string }).Message, 'plain output line');
    } finally {
      await router.close({ drainMs: 2000 });
    }
  });

  // Falcosidekick's aws.checkidentity (default true): an STS GetCallerIdentity at start; moto answers it.
  test('aws.checkidentity: passes against moto; refused credentials stop the start; STS out of reach or the check off: the output starts', async () => {
    const yaml = (endpoint: string, check: boolean) => `listenaddress: 127.0.0.1\nlistenport: 0\nui: { enabled: false }\naws:\n  region: us-east-1\n  endpoint: ${endpoint}\n  checkidentity: ${check}\n  sns:\n    topicarn: ${topicArn}\n`;
    const started = async (endpoint: string, check: boolean) => {
      const r = await createRouter(loadConfig({ env: {}, yamlText: yaml(endpoint, check) }));
      try {
        return r.outputs.map((o) => o.type);
      } finally {
        await r.close({ drainMs: 0 });
      }
    };
    assert.deepEqual(await started(moto.url, true), ['awssns']);
    // An STS that answers 403 as AWS does for unknown keys.
    const sts = await HttpReceiver.start();
    sts.always({ status: 403, headers: { 'content-type': 'text/xml' },
      body: '<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>1</RequestId></ErrorResponse>' });
    try {
      await assert.rejects(createRouter(loadConfig({ env: {}, yamlText: yaml(sts.url, true) })),
        /output "awssns" \(awssns\) cannot start: aws\.checkidentity: STS GetCallerIdentity failed \(InvalidClientTokenId.*set aws\.checkidentity: false to skip/);
      assert.deepEqual(await started(sts.url, false), ['awssns']);
    } finally {
      await sts.close();
    }
    assert.deepEqual(await started('http://127.0.0.1:9', true), ['awssns']);
  });
});
