// Findings 2 and 6 of issue #14: secrets never reach a log line, the metrics page, /healthz or an error reply.
// The real CLI runs with a secret in every place a config can hold one, every output failing (a receiver answering
// 500, servers that refuse connections), and is fed the fault scenarios; then everything it said is searched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { falcoAlert } from '../support/alerts.ts';
import { HttpReceiver } from '../support/http-receiver.ts';

const BIN = fileURLToPath(new URL('../../bin/peregrine', import.meta.url));
const SECRETS = {
  token: 'tok-S3CRET-a1b2c3',
  webhookPassword: 'pw-S3CRET-b2c3d4',
  queryToken: 'q-S3CRET-c3d4e5',
  header: 'hdr-S3CRET-d4e5f6',
  natsPassword: 'nats-S3CRET-e5f6g7',
  slackPath: 'slack-S3CRET-f6g7h8',
  awsSecret: 'aws-S3CRET-g7h8i9',
  kafkaPassword: 'kafka-S3CRET-h8i9j0',
};

async function closedPort(): Promise<number> {
  return new Promise((ok) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => ok(p)); }); });
}

function startCli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', PEREGRINE_LOG_LEVEL: 'debug', ...env } });
  let out = '';
  child.stdout.on('data', (b: Buffer) => { out += b; });
  child.stderr.on('data', (b: Buffer) => { out += b; });
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  return { child, exited, output: () => out };
}

function assertNoSecret(where: string, text: string): void {
  for (const [name, secret] of Object.entries(SECRETS)) {
    assert.ok(!text.includes(secret), `${name} appears in ${where}: …${text.slice(Math.max(0, text.indexOf(secret) - 200), text.indexOf(secret) + 50)}…`);
  }
}

test('secrets stay out of logs, metrics, health and error replies through the fault scenarios', async () => {
  const rx = await HttpReceiver.start();
  rx.always({ status: 500, body: 'upstream broken' });
  const [natsPort, kafkaPort, awsPort] = [await closedPort(), await closedPort(), await closedPort()];
  const dir = mkdtempSync(join(tmpdir(), 'peregrine-secrets-'));
  const rxAuthority = rx.url.replace('http://', '');
  const file = join(dir, 'config.yaml');
  const retry = 'delivery: { initialbackoffms: 50, maxbackoffms: 100, maxretries: 2 }';
  writeFileSync(file, `listenaddress: 127.0.0.1
listenport: 0
loglevel: debug
debug: true
authtoken: ${SECRETS.token}
spool: { dir: ${dir}/spool }
webhook:
  address: "http://user:${SECRETS.webhookPassword}@${rxAuthority}/hook?token=${SECRETS.queryToken}"
  customheaders: { Authorization: "Bearer ${SECRETS.header}" }
  ${retry}
slack:
  webhookurl: "http://${rxAuthority}/services/T0/B0/${SECRETS.slackPath}"
  ${retry}
nats:
  hostport: "nats://natsuser:${SECRETS.natsPassword}@127.0.0.1:${natsPort}"
  ${retry}
kafka:
  hostport: "127.0.0.1:${kafkaPort}"
  topic: alerts
  sasl: PLAIN
  username: kafkauser
  password: ${SECRETS.kafkaPassword}
  ${retry}
aws:
  region: us-east-1
  checkidentity: false
  endpoint: "http://127.0.0.1:${awsPort}"
  accesskeyid: AKIAEXAMPLE
  secretaccesskey: ${SECRETS.awsSecret}
  sns: { topicarn: "arn:aws:sns:us-east-1:123456789012:alerts", ${retry} }
`);
  const cli = startCli(['route', '-c', file]);
  const replies: string[] = [];
  try {
    let port = 0;
    for (let i = 0; i < 200 && !port; i++) {
      port = Number(/"msg":"router listening"/.test(cli.output()) ? /"port":(\d+)/.exec(cli.output().split('\n').find((l) => l.includes('router listening'))!)![1] : 0);
      if (!port) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(port, cli.output());
    const url = `http://127.0.0.1:${port}`;
    const auth = { authorization: `Bearer ${SECRETS.token}` };
    const call = async (path: string, init: RequestInit = {}) => {
      const res = await fetch(`${url}${path}`, init);
      replies.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}`);
    };
    const post = (body: string, headers: Record<string, string> = auth) => call('/', { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
    await post(JSON.stringify(falcoAlert()), {});
    await post(JSON.stringify(falcoAlert()), { authorization: `Bearer ${SECRETS.token}x` });
    await post(JSON.stringify(falcoAlert()), { authorization: `Basic ${SECRETS.token}` });
    await post('{not json');
    await post(JSON.stringify(falcoAlert({ priority: 'loud', rule: undefined })));
    await post(JSON.stringify(falcoAlert({ output: 'x'.repeat(2 * 1024 * 1024) })));
    for (let i = 0; i < 5; i++) await post(JSON.stringify(falcoAlert({ output_fields: { n: i } })));
    await call('/test', { method: 'POST', headers: auth });
    await call('/nowhere');
    await call('/', { method: 'GET' });
    // Retries, give-ups and dead letters happen now; every output fails in its own way.
    await new Promise((r) => setTimeout(r, 4000));
    await call('/healthz');
    await call('/metrics');
    assert.ok(rx.requests.length > 0, 'the receiver was reached (and saw the credentials it is meant to see)');
  } finally {
    cli.child.kill('SIGTERM');
    await cli.exited;
    await rx.close();
  }
  const logs = cli.output();
  assert.match(logs, /sends failed|dead-letter/, 'the fault scenarios were logged');
  assert.ok(replies.some((r) => r.startsWith('401')) && replies.some((r) => r.startsWith('413')) && replies.some((r) => r.includes('degraded')), replies.join('\n'));
  assertNoSecret('the log', logs);
  for (const r of replies) assertNoSecret('a reply', r);
});

test('a malformed URL holding credentials is not echoed whole when the start fails', async () => {
  const envs: Record<string, string>[] = [
    { WEBHOOK_ADDRESS: `http//user:${SECRETS.webhookPassword}@example.invalid/hook` },
    { NATS_HOSTPORT: `nats:/natsuser:${SECRETS.natsPassword}@127.0.0.1:4222` },
    { SLACK_WEBHOOKURL: `hooks.slack.example/services/T0/B0/${SECRETS.slackPath}` },
  ];
  for (const env of envs) {
    const dir = mkdtempSync(join(tmpdir(), 'peregrine-secrets-'));
    writeFileSync(join(dir, 'c.yaml'), `listenaddress: 127.0.0.1\nlistenport: 0\nspool: { dir: ${dir}/spool }\n`);
    const cli = startCli(['route', '-c', join(dir, 'c.yaml')], env);
    const code = await cli.exited;
    assert.equal(code, 1, cli.output());
    assert.match(cli.output(), /cannot start/);
    assertNoSecret('the start error', cli.output());
  }
});
