import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { falcoAlert } from '../support/alerts.ts';
import { startRouterWith } from '../support/router.ts';
import { CLOSE_GRACE_MS } from '../../src/router/http/server.ts';

test('bodies are JSON whatever the content type (curl -d sends a form type)', async () => {
  const r = await startRouterWith('');
  try {
    const res = await fetch(`${r.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: JSON.stringify(falcoAlert()) });
    assert.equal(res.status, 200);
    const none = await fetch(`${r.url}/`, { method: 'POST', body: new Blob([JSON.stringify(falcoAlert())]) });
    assert.equal(none.status, 200);
  } finally {
    await r.router.close({ drainMs: 0 });
  }
});

test('a pressure check pauses input with 503 and Retry-After; health and metrics still answer', async () => {
  let full: string | undefined = 'spool 97% full';
  const r = await startRouterWith('', (router) => router.http.addPressureCheck(() => full));
  try {
    const res = await fetch(`${r.url}/`, { method: 'POST', body: JSON.stringify(falcoAlert()) });
    assert.equal(res.status, 503);
    assert.ok(Number(res.headers.get('retry-after')) > 0);
    assert.match(((await res.json()) as { error: string }).error, /spool 97% full/);
    assert.equal((await fetch(`${r.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${r.url}/metrics`)).status, 200);
    full = undefined;
    assert.equal((await fetch(`${r.url}/`, { method: 'POST', body: JSON.stringify(falcoAlert()) })).status, 200);
  } finally {
    await r.router.close({ drainMs: 0 });
  }
});

test('routes and plugins registered through router.http are served, with params', async () => {
  const r = await startRouterWith('', (router) => {
    router.http.app.get('/api/v1/alerts/:id', async (req) => ({ id: (req.params as { id: string }).id }));
    router.http.registerIngest(async (app) => { app.post('/extra', async (req) => ({ got: req.body })); });
  });
  try {
    assert.deepEqual(await (await fetch(`${r.url}/api/v1/alerts/42`)).json(), { id: '42' });
    assert.deepEqual(await (await fetch(`${r.url}/extra`, { method: 'POST', body: '{"a":1}' })).json(), { got: { a: 1 } });
    assert.equal((await fetch(`${r.url}/extra`)).status, 405);
  } finally {
    await r.router.close({ drainMs: 0 });
  }
});

test('a slow client does not hold shutdown past the grace period', async () => {
  const r = await startRouterWith('');
  const port = Number(new URL(r.url).port);
  const sock = connect(port, '127.0.0.1');
  await new Promise((ok) => sock.once('connect', ok));
  sock.on('error', () => {});
  // Headers promise 1000 bytes of body; only 10 ever come.
  sock.write(`POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"rule":"x`);
  await new Promise((ok) => setTimeout(ok, 100));
  const t0 = performance.now();
  await r.router.close({ drainMs: 0 });
  const took = performance.now() - t0;
  assert.ok(took < CLOSE_GRACE_MS + 1000, `close took ${Math.round(took)} ms`);
  assert.ok(sock.destroyed || sock.readableEnded || (await new Promise((ok) => { sock.once('close', () => ok(true)); setTimeout(() => ok(false), 1000); })));
});

test('event-loop lag over 1 s pauses input with 503 and Retry-After (under-pressure); health still answers', async () => {
  const r = await startRouterWith('');
  try {
    // Block the loop the router runs on, then let under-pressure take its next sample.
    const until = Date.now() + 2500;
    while (Date.now() < until) { /* a stalled event loop */ }
    let res = await fetch(`${r.url}/`, { method: 'POST', body: JSON.stringify(falcoAlert()) });
    for (let i = 0; i < 20 && res.status !== 503; i++) {
      await new Promise((ok) => setTimeout(ok, 10));
      const stall = Date.now() + 1500;
      while (Date.now() < stall) { /* keep the loop stalled between samples */ }
      res = await fetch(`${r.url}/`, { method: 'POST', body: JSON.stringify(falcoAlert()) });
    }
    assert.equal(res.status, 503);
    assert.ok(Number(res.headers.get('retry-after')) > 0);
    assert.match(((await res.json()) as { error: string }).error, /input paused: eventLoopDelay/);
    assert.equal((await fetch(`${r.url}/healthz`)).status, 200);
  } finally {
    await r.router.close({ drainMs: 0 });
  }
});
