import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { alertJson, webhookOutput } from '../../outputs/webhook.ts';
import { parseRetryAfter } from '../../outputs/http.ts';
import { DeliveryError } from '../../src/router/output.ts';
import { silentLogger } from '../../src/log.ts';
import { parsedAlert } from '../support/alerts.ts';
import { HttpReceiver } from '../support/http-receiver.ts';

const alert = () => parsedAlert();

describe('webhook output', () => {
  test('PUT with custom headers and the alert as Falcosidekick sends it', async () => {
    const rx = await HttpReceiver.start();
    try {
      const c = webhookOutput.schema.parse({ address: `${rx.url}/hook`, method: 'PUT', customheaders: { 'X-Team': 'sec' } });
      const sender = await webhookOutput.create(c, { name: 'webhook', log: silentLogger });
      const a = alert();
      await sender.send([a], AbortSignal.timeout(5000));
      const req = rx.requests[0]!;
      assert.equal(req.method, 'PUT');
      assert.equal(req.path, '/hook');
      assert.equal(req.headers['x-team'], 'sec');
      assert.match(String(req.headers['content-type']), /application\/json/);
      const body = JSON.parse(req.body);
      assert.equal(body.priority, 'Warning');
      assert.equal(body.uuid, a.uuid);
      assert.equal(body.output_fields['fd.name'], '/etc/shadow');
      await sender.close?.();
    } finally {
      await rx.close();
    }
  });
  test('the body has Falcosidekick\'s keys in its order; empty tags and hostname are left out, as its omitempty does', () => {
    const full = alertJson(parsedAlert());
    assert.deepEqual(Object.keys(JSON.parse(full)), ['uuid', 'output', 'priority', 'rule', 'time', 'output_fields', 'source', 'tags', 'hostname']);
    const bare = JSON.parse(alertJson(parsedAlert({ tags: [], hostname: '' })));
    assert.ok(!('tags' in bare) && !('hostname' in bare));
  });
  test('method as Falcosidekick reads it: put in any case is PUT, anything else (PATCH) is POST', async () => {
    const rx = await HttpReceiver.start();
    try {
      for (const method of ['put', 'PATCH', 'post']) {
        const sender = await webhookOutput.create(webhookOutput.schema.parse({ address: rx.url, method }), { name: 'w', log: silentLogger });
        await sender.send([alert()], AbortSignal.timeout(5000));
        await sender.close?.();
      }
      assert.deepEqual(rx.requests.map((r) => r.method), ['PUT', 'POST', 'POST']);
    } finally {
      await rx.close();
    }
  });
  test('status codes: 5xx retryable, 400 not, 429 carries Retry-After', async () => {
    const rx = await HttpReceiver.start();
    try {
      const sender = await webhookOutput.create(webhookOutput.schema.parse({ address: rx.url }), { name: 'w', log: silentLogger });
      rx.respond({ status: 503 }, { status: 400 }, { status: 429, headers: { 'retry-after': '2' } });
      await assert.rejects(sender.send([alert()], AbortSignal.timeout(5000)), (e: unknown) => e instanceof DeliveryError && e.retryable && e.status === 503);
      await assert.rejects(sender.send([alert()], AbortSignal.timeout(5000)), (e: unknown) => e instanceof DeliveryError && !e.retryable);
      await assert.rejects(sender.send([alert()], AbortSignal.timeout(5000)), (e: unknown) => e instanceof DeliveryError && e.retryAfterMs === 2000);
    } finally {
      await rx.close();
    }
  });
  test('an error answer\'s start is in the message; a large 2xx body is read and dropped', async () => {
    const rx = await HttpReceiver.start();
    try {
      const sender = await webhookOutput.create(webhookOutput.schema.parse({ address: rx.url }), { name: 'w', log: silentLogger });
      rx.respond({ status: 400, body: 'bad field: output_fields' + 'x'.repeat(5000) }, { status: 200, body: 'y'.repeat(200_000) });
      await assert.rejects(sender.send([alert()], AbortSignal.timeout(5000)), (e: unknown) =>
        e instanceof DeliveryError && e.status === 400 && /HTTP 400 bad field: output_fieldsx+$/.test(e.message) && e.message.length < 300);
      await sender.send([alert()], AbortSignal.timeout(5000));
      await sender.send([alert()], AbortSignal.timeout(5000));
      assert.equal(rx.requests.length, 3);
      await sender.close?.();
    } finally {
      await rx.close();
    }
  });
  test('a server that never answers: the send ends as a retryable error when its signal aborts, and the next send goes through', async () => {
    const rx = await HttpReceiver.start();
    try {
      const sender = await webhookOutput.create(webhookOutput.schema.parse({ address: rx.url }), { name: 'w', log: silentLogger });
      rx.respond('hang');
      const ctl = new AbortController();
      const t0 = Date.now();
      setTimeout(() => ctl.abort(new DeliveryError('send timed out', { retryable: true })), 200);
      await assert.rejects(sender.send([alert()], ctl.signal), (e: unknown) => e instanceof DeliveryError && e.retryable && /send timed out/.test(e.message));
      assert.ok(Date.now() - t0 < 2000, 'rejected at the abort, not at a transport timeout');
      await sender.send([alert()], AbortSignal.timeout(5000));
      assert.equal(rx.requests.length, 1, 'the hung request was not answered; the next one was');
      // Already aborted: nothing is sent.
      await assert.rejects(sender.send([alert()], AbortSignal.abort(new Error('shutting down'))), (e: unknown) => e instanceof DeliveryError && /shutting down/.test(e.message));
      assert.equal(rx.requests.length, 1);
      await sender.close?.();
    } finally {
      await rx.close();
    }
  });
  test('a connection refused is retryable', async () => {
    const sender = await webhookOutput.create(webhookOutput.schema.parse({ address: 'http://127.0.0.1:9/' }), { name: 'w', log: silentLogger });
    await assert.rejects(sender.send([alert()], AbortSignal.timeout(5000)), (e: unknown) => e instanceof DeliveryError && e.retryable);
  });
  test('a non-URL address is refused at start', () => {
    assert.throws(() => webhookOutput.create(webhookOutput.schema.parse({ address: 'receiver:8080' }), { name: 'w', log: silentLogger }), /not an http\(s\) URL/);
  });
  test('a proxy from the environment it cannot use stops the output at start, naming the variable', () => {
    const saved = process.env.HTTPS_PROXY;
    process.env.HTTPS_PROXY = 'socks5://127.0.0.1:1080';
    try {
      assert.throws(() => webhookOutput.create(webhookOutput.schema.parse({ address: 'https://hooks.example.com/x' }), { name: 'w', log: silentLogger }),
        /^Error: webhook: HTTPS_PROXY: only http:\/\/ proxies are supported, not socks5:\/\/$/);
    } finally {
      if (saved === undefined) delete process.env.HTTPS_PROXY;
      else process.env.HTTPS_PROXY = saved;
    }
  });
  test('Retry-After in seconds or as an HTTP date', () => {
    assert.equal(parseRetryAfter('5'), 5000);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
    assert.equal(parseRetryAfter('soon'), undefined);
  });
});
