// Finding 3 of issue #14: configs that started, answered 200 and delivered nothing. Each must stop the start
// with exit 1 and an error naming the key (never a stack trace); an unreachable server instead retries in the
// background and shows in /healthz.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { falcoAlert, postAlert } from '../support/alerts.ts';
import { eventually } from '../support/eventually.ts';
import { startRouter } from '../support/router.ts';

const BIN = fileURLToPath(new URL('../../bin/peregrine', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'peregrine-config-faults-'));

function route(yaml: string, env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `listenaddress: 127.0.0.1\nlistenport: 0\nspool: { dir: ${dir}/spool-${Math.random().toString(36).slice(2)} }\n${yaml}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'route', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', ...env } });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b; });
    child.stderr.on('data', (b: Buffer) => { out += b; });
    const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => { clearTimeout(t); resolve({ code, stderr: out }); });
  });
}

const cases: [string, string, Record<string, string>, RegExp][] = [
  ['SLACK_WEBHOOKURL=notaurl', '', { SLACK_WEBHOOKURL: 'notaurl' }, /slack\.webhookurl is not an http\(s\) URL/],
  ['WEBHOOK_ADDRESS=notaurl', '', { WEBHOOK_ADDRESS: 'notaurl' }, /webhook\.address "notaurl" is not an http\(s\) URL/],
  ['a missing WEBHOOK_CACERTFILE', '', { WEBHOOK_ADDRESS: 'https://127.0.0.1:9/', WEBHOOK_CACERTFILE: '/nonexistent/ca.pem' }, /cacertfile: cannot read \/nonexistent\/ca\.pem: no such file/],
  ['YAML slack.webhookurl "not a url"', 'slack: { webhookurl: "not a url" }\n', {}, /slack\.webhookurl is not an http\(s\) URL/],
  ['CUSTOMFIELDS=nocolon', '', { CUSTOMFIELDS: 'nocolon' }, /env CUSTOMFIELDS: "nocolon" is not key:value/],
  ['a timeout of 2^31 ms', 'webhook: { address: "http://127.0.0.1:9/", delivery: { timeoutms: 2147483648 } }\n', {}, /webhook\.delivery\.timeoutms: Too big: expected number to be <=2147483647/],
  ['WEBHOOK_DELIVERY_TIMEOUTMS=2^31', 'webhook: { address: "http://127.0.0.1:9/" }\n', { WEBHOOK_DELIVERY_TIMEOUTMS: '2147483648' }, /WEBHOOK_DELIVERY_TIMEOUTMS \(webhook\.delivery\.timeoutms\): Too big/],
  ['a YAML alias bomb', `a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n`, {}, /Excessive alias count .* \(more than 100 alias expansions\) \[PRG_CONFIG_YAML\]/],
  ['a missing TLS certificate', 'tlsserver: { deploy: true, certfile: /nonexistent/server.crt, keyfile: /nonexistent/server.key }\n', {}, /tlsserver\.certfile: cannot read \/nonexistent\/server\.crt: no such file/],
  ['a NATS credsfile that does not exist', 'nats: { hostport: "nats://127.0.0.1:9", credsfile: /nonexistent/user.creds }\n', {}, /nats\.credsfile: cannot read \/nonexistent\/user\.creds: no such file/],
];

for (const [name, yaml, env, expected] of cases) {
  test(`${name}: the start stops with exit 1 and an error naming the key`, async () => {
    const r = await route(yaml, env);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, expected);
    assert.doesNotMatch(r.stderr, /router listening/);
    assert.doesNotMatch(r.stderr, /\n\s+at [^\n]+:\d+:\d+\)?\n/, 'no stack trace');
  });
}

test('an unreachable server is not a config error: the router starts, retries, and /healthz names the output', async () => {
  // A port that refuses connections: bind, then close.
  const port = await new Promise<number>((ok) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => ok(p)); }); });
  const r = await startRouter(`nats: { hostport: "nats://127.0.0.1:${port}", delivery: { initialbackoffms: 50, maxbackoffms: 200, maxretries: 1000 } }\n`);
  try {
    assert.equal((await postAlert(r.url, falcoAlert())).status, 200);
    await eventually(async () => {
      const h = await (await fetch(`${r.url}/healthz`)).json() as { status: string; failingOutputs?: { output: string; error: string }[] };
      assert.equal(h.status, 'degraded');
      assert.equal(h.failingOutputs?.[0]?.output, 'nats');
      assert.match(h.failingOutputs![0]!.error, /cannot connect/);
    }, 10_000);
  } finally {
    await r.router.close({ drainMs: 0 });
  }
});
