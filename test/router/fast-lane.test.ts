import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { falcoAlert } from '../support/alerts.ts';
import { HttpReceiver } from '../support/http-receiver.ts';
import { startRouter } from '../support/router.ts';

interface RawResponse { status: number; headers: Record<string, string>; body: string }

/** A bare TCP client speaking HTTP/1.1 by hand, to send what fetch() would not (pipelining, Expect, chunks). */
class RawClient {
  private buf = Buffer.alloc(0);
  private readonly waiters: (() => void)[] = [];
  closed = false;
  readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => { this.buf = Buffer.concat([this.buf, d]); this.wake(); });
    socket.on('close', () => { this.closed = true; this.wake(); });
    socket.on('error', () => {});
  }

  static async open(url: string): Promise<RawClient> {
    const s = connect(Number(new URL(url).port), '127.0.0.1');
    await new Promise((ok) => s.once('connect', ok));
    return new RawClient(s);
  }

  private wake(): void { for (const w of this.waiters.splice(0)) w(); }

  send(text: string): void { this.socket.write(text); }

  /** Waits for the next whole response (status line, headers, content-length body). */
  async response(timeoutMs = 5000): Promise<RawResponse> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        const lines = this.buf.toString('latin1', 0, end).split('\r\n');
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
        const length = Number(headers['content-length'] ?? 0);
        if (this.buf.length >= end + 4 + length) {
          const body = this.buf.toString('utf8', end + 4, end + 4 + length);
          this.buf = this.buf.subarray(end + 4 + length);
          return { status: Number(lines[0]!.split(' ')[1]), headers, body };
        }
      }
      if (this.closed) throw new Error(`connection closed; unread: ${JSON.stringify(this.buf.toString())}`);
      if (Date.now() > until) throw new Error(`no whole response within ${timeoutMs} ms; have: ${JSON.stringify(this.buf.toString())}`);
      await new Promise<void>((ok) => { this.waiters.push(ok); setTimeout(ok, 50); });
    }
  }

  async closedByServer(timeoutMs = 3000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < until) await new Promise<void>((ok) => { this.waiters.push(ok); setTimeout(ok, 50); });
    return this.closed;
  }

  end(): void { this.socket.destroy(); }
}

const post = (body: string, extra = '') => `POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const alertText = (rule: string) => JSON.stringify(falcoAlert({ rule }));

/** A router whose webhook output posts to a fresh receiver; both are closed after `body`, whatever it throws. */
async function withWebhookRouter(body: (r: Awaited<ReturnType<typeof startRouter>>, receiver: HttpReceiver) => Promise<void>): Promise<void> {
  const receiver = await HttpReceiver.start();
  try {
    const r = await startRouter(`webhook:\n  address: "${receiver.url}/"\n`);
    try {
      await body(r, receiver);
    } finally {
      await r.router.close({ drainMs: 0 });
    }
  } finally {
    await receiver.close();
  }
}

test('alerts posted on one kept-alive connection are answered on the fast lane and all delivered, pipelined ones in order', async () => {
  await withWebhookRouter(async (r, receiver) => {
    const c = await RawClient.open(r.url);
    const uuids: string[] = [];
    for (let i = 0; i < 20; i++) {
      c.send(post(alertText(`one ${i}`)));
      const res = await c.response();
      assert.equal(res.status, 200);
      assert.match(res.headers['content-type']!, /^application\/json/);
      assert.equal(res.headers.connection, 'keep-alive');
      uuids.push((JSON.parse(res.body) as { uuid: string }).uuid);
    }
    // Three requests in one write: three answers, in order.
    c.send(post(alertText('pipelined 0')) + post(alertText('pipelined 1')) + post(alertText('pipelined 2')));
    for (let i = 0; i < 3; i++) {
      const res = await c.response();
      assert.equal(res.status, 200);
      uuids.push((JSON.parse(res.body) as { uuid: string }).uuid);
    }
    assert.equal(new Set(uuids).size, 23);
    await receiver.waitFor(23);
    // Every answered alert was delivered; each answer is the one of its request (delivery itself may run
    // several sends at once, so the receiver's order is not the input's).
    const ruleOf = new Map(receiver.requests.map((q) => { const a = JSON.parse(q.body) as { uuid: string; rule: string }; return [a.uuid, a.rule]; }));
    assert.deepEqual(uuids.map((u) => ruleOf.get(u)), [...Array.from({ length: 20 }, (_, i) => `one ${i}`), 'pipelined 0', 'pipelined 1', 'pipelined 2']);
    assert.equal(r.router.http.fastLane!.counts.direct, 23);
    assert.equal(r.router.http.fastLane!.size, 1);
    c.end();
  });
});

test('Expect: 100-continue is answered before the body; chunked bodies are read; HTTP/1.0 is answered and closed', async () => {
  await withWebhookRouter(async (r, receiver) => {
    const c = await RawClient.open(r.url);
    const body = alertText('after continue');
    // What libcurl (Falco's http_output) sends for larger bodies: the head, then the body once told to go on.
    c.send(`POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nexpect: 100-continue\r\ncontent-length: ${body.length}\r\n\r\n`);
    const cont = await c.response();
    assert.equal(cont.status, 100);
    c.send(body);
    assert.equal((await c.response()).status, 200);

    const chunked = alertText('chunked');
    const half = Math.floor(chunked.length / 2);
    c.send(`POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n${half.toString(16)}\r\n${chunked.slice(0, half)}\r\n`);
    await new Promise((ok) => setTimeout(ok, 30));
    c.send(`${(chunked.length - half).toString(16)}\r\n${chunked.slice(half)}\r\n0\r\n\r\n`);
    assert.equal((await c.response()).status, 200);
    c.end();

    const old = await RawClient.open(r.url);
    const oldBody = alertText('http 1.0');
    old.send(`POST / HTTP/1.0\r\ncontent-length: ${oldBody.length}\r\n\r\n${oldBody}`);
    const res = await old.response();
    assert.equal(res.status, 200);
    assert.equal(res.headers.connection, 'close');
    assert.ok(await old.closedByServer());

    await receiver.waitFor(3);
    // Delivery may run sends side by side: compared as a set.
    assert.deepEqual(receiver.requests.map((q) => (JSON.parse(q.body) as { rule: string }).rule).sort(), ['after continue', 'chunked', 'http 1.0']);
    assert.equal(r.router.http.fastLane!.counts.direct, 3);
  });
});

test('on a lane connection, a POST / the lane does not take gets fastify\'s own answer: bad JSON, a bad alert, a wrong token', async () => {
  const r = await startRouter('authtoken: s3cret\n');
  try {
    const c = await RawClient.open(r.url);
    const auth = 'authorization: Bearer s3cret\r\n';
    c.send(post(alertText('first'), auth));
    assert.equal((await c.response()).status, 200);

    c.send(post('{"rule": ', auth));
    const badJson = await c.response();
    assert.equal(badJson.status, 400);
    assert.match((JSON.parse(badJson.body) as { error: string }).error, /body is not valid JSON/);

    c.send(post(JSON.stringify(falcoAlert({ priority: 'constructor' })), auth));
    const badAlert = await c.response();
    assert.equal(badAlert.status, 400);
    assert.match((JSON.parse(badAlert.body) as { error: string }).error, /priority/);

    c.send(post(alertText('no token')));
    const noToken = await c.response();
    assert.equal(noToken.status, 401);
    assert.match((JSON.parse(noToken.body) as { error: string }).error, /bearer token/);

    // Still the same connection, still on the lane.
    c.send(post(alertText('last'), auth));
    assert.equal((await c.response()).status, 200);
    assert.deepEqual(r.router.http.fastLane!.counts, { direct: 2, viaFastify: 3, handedOff: 0 });
    const text = await r.router.metricsText();
    assert.match(text, /falcosidekick_inputs_total\{source="requests",status="rejected"\} 2/);
    c.end();
  } finally {
    await r.router.close({ drainMs: 0 });
  }
});

test('another path after alerts hands the connection to node:http, which serves the rest of it (alerts included)', async () => {
  const r = await startRouter('authtoken: s3cret\n');
  try {
    const c = await RawClient.open(r.url);
    const auth = 'authorization: Bearer s3cret\r\n';
    c.send(post(alertText('first'), auth));
    assert.equal((await c.response()).status, 200);
    // Pipelined behind the health check: they reach node:http with it.
    c.send(`GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n${post(alertText('after'), auth)}`);
    const health = await c.response();
    assert.equal(health.status, 200);
    assert.equal((JSON.parse(health.body) as { status: string }).status, 'ok');
    assert.equal((await c.response()).status, 200);
    c.send(`POST /test HTTP/1.1\r\nhost: x\r\n${auth}content-length: 0\r\n\r\n`);
    assert.equal((await c.response()).status, 200);
    c.send('DELETE / HTTP/1.1\r\nhost: x\r\n\r\n');
    assert.equal((await c.response()).status, 405);
    assert.deepEqual(r.router.http.fastLane!.counts, { direct: 1, viaFastify: 0, handedOff: 1 });
    assert.equal(r.router.http.fastLane!.size, 0);
    c.end();
  } finally {
    await r.router.close({ drainMs: 0 });
  }
});

test('a connection whose first request is not an alert is served by node:http throughout, alerts included', async () => {
  await withWebhookRouter(async (r, receiver) => {
    const c = await RawClient.open(r.url);
    // The head arrives in two writes, the second carrying a whole alert request behind it.
    c.send('GET /healthz HTTP/1.1\r\nho');
    await new Promise((ok) => setTimeout(ok, 30));
    c.send(`st: x\r\n\r\n${post(alertText('behind a health check'))}`);
    assert.equal((await c.response()).status, 200);
    const res = await c.response();
    assert.equal(res.status, 200);
    assert.ok((JSON.parse(res.body) as { uuid?: string }).uuid);
    await receiver.waitFor(1);
    assert.equal(r.router.http.fastLane!.size, 0);
    assert.deepEqual(r.router.http.fastLane!.counts, { direct: 0, viaFastify: 0, handedOff: 1 });
    c.end();
  });
});

test('a body over bodylimit is refused with 413 and the connection closed; malformed framing is 400', async () => {
  const r = await startRouter('bodylimit: 2000\n');
  try {
    const c = await RawClient.open(r.url);
    c.send(post(alertText('ok')));
    assert.equal((await c.response()).status, 200);
    c.send(`POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 5000\r\n\r\n${'x'.repeat(100)}`);
    const big = await c.response();
    assert.equal(big.status, 413);
    assert.match((JSON.parse(big.body) as { error: string }).error, /bodylimit \(2000 bytes\)/);
    assert.ok(await c.closedByServer());

    const d = await RawClient.open(r.url);
    d.send(post(alertText('ok')));
    assert.equal((await d.response()).status, 200);
    d.send('POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n0\r\n\r\n');
    assert.equal((await d.response()).status, 400);
    assert.ok(await d.closedByServer());
    assert.match(await r.router.metricsText(), /falcosidekick_inputs_total\{source="requests",status="rejected"\} 2/);
  } finally {
    await r.router.close({ drainMs: 0 });
  }
});

test('an HTTP/1.1 request without Host is refused with 400 as node:http and Go answer; HTTP/1.0 needs none', async () => {
  const r = await startRouter('');
  try {
    const body = alertText('no host');
    const bad = `POST / HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    // First on its connection: the lane hands it to node:http, which answers 400 itself.
    const first = await RawClient.open(r.url);
    first.send(bad);
    assert.equal((await first.response()).status, 400);
    assert.ok(await first.closedByServer());
    // After a good request: the lane answers, naming the problem.
    const later = await RawClient.open(r.url);
    later.send(post(alertText('fine')));
    assert.equal((await later.response()).status, 200);
    later.send(bad);
    const res = await later.response();
    assert.equal(res.status, 400);
    assert.match((JSON.parse(res.body) as { error: string }).error, /host header/);
    assert.ok(await later.closedByServer());
    const old = await RawClient.open(r.url);
    old.send(`POST / HTTP/1.0\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    assert.equal((await old.response()).status, 200);
    // The good one before the bad one, and the HTTP/1.0 one.
    assert.match(await r.router.metricsText(), /falcosidekick_inputs_total\{source="requests",status="accepted"\} 2\n/);
  } finally {
    await r.router.close({ drainMs: 0 });
  }
});

test('shutdown closes kept-alive lane connections without waiting for the grace period', async () => {
  const r = await startRouter('');
  const idle = await RawClient.open(r.url);
  idle.send(post(alertText('idle after this')));
  assert.equal((await idle.response()).status, 200);
  const busy = await RawClient.open(r.url);
  busy.send(post(alertText('first')));
  assert.equal((await busy.response()).status, 200);
  const t0 = performance.now();
  await r.router.close({ drainMs: 1000 });
  assert.ok(performance.now() - t0 < 900, `close took ${Math.round(performance.now() - t0)} ms`);
  assert.ok(await idle.closedByServer(1000));
  assert.ok(await busy.closedByServer(1000));
});

test('a request split at any byte across two TCP writes is framed the same (Content-Length and chunked)', async () => {
  await withWebhookRouter(async (r, receiver) => {
    const c = await RawClient.open(r.url);
    c.socket.setNoDelay(true);
    const body = alertText('split');
    const shapes = [
      post(body),
      `POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n10\r\n${body.slice(0, 16)}\r\n${(body.length - 16).toString(16)}\r\n${body.slice(16)}\r\n0\r\n\r\n`,
    ];
    let sent = 0;
    for (const text of shapes) {
      for (let cut = 1; cut < text.length; cut += 5) {
        c.send(text.slice(0, cut));
        await new Promise((ok) => setImmediate(ok));
        c.send(text.slice(cut));
        const res = await c.response();
        assert.equal(res.status, 200, `cut at ${cut}: ${res.body}`);
        sent++;
      }
    }
    await receiver.waitFor(sent, 30_000);
    assert.equal(r.router.http.fastLane!.counts.direct, sent);
    assert.equal(r.router.http.fastLane!.counts.viaFastify, 0);
    c.end();
  });
});

test('a client that pipelines requests and half-closes gets every answer, then the end', async () => {
  const r = await startRouter('');
  try {
    const c = await RawClient.open(r.url);
    c.socket.end(post(alertText('a')) + post(alertText('b')) + post(alertText('c')));
    for (let i = 0; i < 3; i++) assert.equal((await c.response()).status, 200);
    assert.ok(await c.closedByServer());
    assert.equal(r.router.http.fastLane!.counts.direct, 3);
  } finally {
    await r.router.close({ drainMs: 0 });
  }
});
