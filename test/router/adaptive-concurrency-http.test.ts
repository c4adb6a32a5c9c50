// Adaptive concurrency end to end: the router's webhook output against a real loopback HTTP server that
// works on `knee` requests at a time and queues the rest, so its latency grows with our in-flight count.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { falcoAlert } from '../support/alerts.ts';
import { startRouter } from '../support/router.ts';

/** A server with `knee` workers, each taking `serviceMs` per request; requests beyond them wait in line. */
async function kneeServer(knee: number, serviceMs: number) {
  const waiting: ServerResponse[] = [];
  let busy = 0;
  let inFlight = 0;
  let peakInFlight = 0;
  let served = 0;
  const work = (res: ServerResponse) => {
    busy++;
    setTimeout(() => {
      busy--;
      inFlight--;
      served++;
      res.end('ok');
      const next = waiting.shift();
      if (next) work(next);
    }, serviceMs);
  };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      inFlight++;
      peakInFlight = Math.max(peakInFlight, inFlight);
      if (busy < knee) work(res);
      else waiting.push(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    get inFlight() { return inFlight; },
    get peakInFlight() { return peakInFlight; },
    get served() { return served; },
    close: () => { server.closeAllConnections(); server.close(); },
  };
}

describe('adaptive concurrency through the router', () => {
  test('the webhook output settles near the knee of a server whose latency grows with load', async (t) => {
    const knee = 8;
    const server = await kneeServer(knee, 20);
    const { router } = await startRouter(`webhook:\n  address: "${server.url}"\nui:\n  enabled: false\n`);
    try {
      const webhook = router.outputs.find((o) => o.type === 'webhook')!;
      // Enough alerts for ~6 s at the knee's throughput (8 / 20 ms = 400/s): the backlog never runs dry.
      const total = 2400;
      for (let i = 0; i < total; i++) {
        const r = await router.submit(falcoAlert({ output_fields: { id: i } }));
        assert.ok(r.ok);
      }
      const limits: number[] = [];
      const deadline = Date.now() + 30_000;
      while (server.served < total && Date.now() < deadline) {
        limits.push(webhook.queue.concurrency);
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(server.served, total, 'every alert delivered');
      // From the second third on, the limit has had time to find the knee.
      const settled = limits.slice(Math.floor(limits.length / 3));
      const mean = settled.reduce((a, b) => a + b, 0) / settled.length;
      t.diagnostic(`mean limit ${mean.toFixed(1)}, range ${Math.min(...settled)}-${Math.max(...settled)}, server peak in flight ${server.peakInFlight}`);
      assert.ok(mean >= knee * 0.6 && mean <= knee * 1.5 + 2,
        `mean limit ${mean.toFixed(1)} (samples ${Math.min(...settled)}-${Math.max(...settled)}) is not near the knee ${knee}`);
      assert.ok(Math.max(...limits) < 64, `limit reached the default cap (${Math.max(...limits)}): it never backed off`);
    } finally {
      await router.close({ drainMs: 1000 });
      server.close();
    }
  });

  test('maxconcurrentrequests caps it: never more sends in flight than that', async () => {
    const server = await kneeServer(32, 5);
    const { router } = await startRouter(`webhook:\n  address: "${server.url}"\n  maxconcurrentrequests: 3\nui:\n  enabled: false\n`);
    try {
      for (let i = 0; i < 300; i++) assert.ok((await router.submit(falcoAlert({ output_fields: { id: i } }))).ok);
      const deadline = Date.now() + 20_000;
      while (server.served < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(server.served, 300);
      assert.equal(server.peakInFlight, 3);
    } finally {
      await router.close({ drainMs: 1000 });
      server.close();
    }
  });
});
