// Issue #12's durability cases against the real CLI process (`peregrine route`), a real loopback webhook
// receiver and a real nats-server: kill -9 under load, SIGTERM during backoff, shutdown bounded by drainms
// whatever a client or a broker does, the dead-letter CLI.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { falcoAlert, postAlert } from '../support/alerts.ts';
import { eventually } from '../support/eventually.ts';
import { HttpReceiver } from '../support/http-receiver.ts';
import { metricValue } from '../support/metrics.ts';
import { RouteProcess, runCli } from '../support/route-process.ts';
import { NatsServer } from '../services/nats.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const idOf = (body: string) => (JSON.parse(body) as { output_fields: { id: number } }).output_fields.id;

function configFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'peregrine-durability-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, `listenaddress: 127.0.0.1\nlistenport: 0\n${yaml}`);
  return file;
}

/** Posts alerts with increasing ids at a steady rate to wherever url() points; keeps the ids answered 200. */
class PacedPoster {
  readonly acked = new Set<number>();
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly inflight = new Set<Promise<void>>();

  start(url: () => string, perSecond: number): void {
    const perTick = Math.max(1, Math.round(perSecond / 100));
    this.timer = setInterval(() => {
      for (let i = 0; i < perTick; i++) {
        const id = this.next++;
        const p = postAlert(url(), falcoAlert({ output_fields: { id } }))
          .then(async (r) => {
            await r.text();
            if (r.status === 200) this.acked.add(id);
          })
          .catch(() => undefined) // the process was killed mid-request: not acknowledged
          .finally(() => this.inflight.delete(p));
        this.inflight.add(p);
      }
    }, 10);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.inflight]);
  }
}

describe('durability of the real process', () => {
  test('5 rounds of kill -9 at random moments under 500/s, receiver down for part of the run: every 200 is delivered after restart', async (t) => {
    const rx = await HttpReceiver.start();
    const cfg = configFile(`drainms: 2000
webhook: { address: "${rx.url}/", delivery: { initialbackoffms: 100, maxbackoffms: 1000, maxretries: 100000 } }
`);
    const poster = new PacedPoster();
    let proc: RouteProcess | undefined;
    try {
      for (let round = 0; round < 5; round++) {
        proc = await RouteProcess.start(cfg);
        const current = proc;
        poster.start(() => current.url, 500);
        if (round === 1) await rx.down(); // down from round 1 until the middle of round 3
        const runMs = 600 + Math.floor(Math.random() * 1200);
        if (round === 3) {
          await sleep(runMs / 2);
          await rx.up();
          await sleep(runMs / 2);
        } else await sleep(runMs);
        await current.kill9();
        await poster.stop();
        t.diagnostic(`round ${round}: killed after ${runMs} ms; ${poster.acked.size} acknowledged so far, ${rx.requests.length} received`);
        if (round === 0) assert.ok(rx.requests.length > 0, 'delivery ran while the receiver was up');
      }
      const t0 = performance.now();
      proc = await RouteProcess.start(cfg);
      const received = () => new Set(rx.requests.map((q) => idOf(q.body)));
      t.diagnostic(`restarted in ${Math.round(performance.now() - t0)} ms`);
      await eventually(() => {
        const got = received();
        const missing = [...poster.acked].filter((id) => !got.has(id));
        assert.equal(missing.length, 0, `${missing.length} acknowledged alerts not delivered, e.g. ${missing.slice(0, 5).join(', ')}`);
      }, 60_000);
      const duplicates = rx.requests.length - received().size;
      t.diagnostic(`${poster.acked.size} acknowledged, all delivered ${Math.round(performance.now() - t0)} ms after the last restart; ${duplicates} duplicates (at least once)`);
      assert.ok(poster.acked.size > 200, `only ${poster.acked.size} alerts were acknowledged`);
      assert.equal((await proc.term()).code, 0);
    } finally {
      await poster.stop();
      if (proc && proc.child.exitCode === null) await proc.kill9();
      await rx.close();
    }
  });

  test('SIGTERM while alerts wait out a backoff, receiver back: delivered before exit (or on the next start), exit within drainms + 1 s', async (t) => {
    const rx = await HttpReceiver.start();
    await rx.down();
    const drainms = 4000;
    const cfg = configFile(`drainms: ${drainms}
webhook: { address: "${rx.url}/", delivery: { initialbackoffms: 1000, maxbackoffms: 20000, maxretries: 100 } }
`);
    let proc = await RouteProcess.start(cfg);
    try {
      const acked: number[] = [];
      for (let id = 0; id < 300; id++) {
        if ((await postAlert(proc.url, falcoAlert({ output_fields: { id } }))).status === 200) acked.push(id);
        if (id % 5 === 4) await sleep(10);
      }
      assert.equal(acked.length, 300);
      await sleep(3000); // every alert has failed a few times and sleeps in a backoff of seconds
      await rx.up();
      await sleep(200);
      const { code, ms } = await proc.term();
      assert.equal(code, 0);
      assert.ok(ms <= drainms + 1000, `exit took ${Math.round(ms)} ms`);
      const beforeExit = new Set(rx.requests.map((q) => idOf(q.body))).size;
      t.diagnostic(`${beforeExit} of 300 delivered before exit, in ${Math.round(ms)} ms`);
      if (beforeExit < 300) {
        proc = await RouteProcess.start(cfg);
        await eventually(() => assert.equal(new Set(rx.requests.map((q) => idOf(q.body))).size, 300), 20_000);
        await proc.term();
      }
      assert.equal(beforeExit, 300, 'woken from backoff, all were delivered before exit');
    } finally {
      if (proc.child.exitCode === null) await proc.kill9();
      await rx.close();
    }
  });

  test('a client stalled mid-request does not hold shutdown past drainms + 1 s', async () => {
    const rx = await HttpReceiver.start();
    const drainms = 1500;
    const proc = await RouteProcess.start(configFile(`drainms: ${drainms}\nwebhook: { address: "${rx.url}/" }\n`));
    const port = Number(new URL(proc.url).port);
    const sock = connect(port, '127.0.0.1');
    sock.on('error', () => undefined);
    try {
      await new Promise<void>((r) => sock.once('connect', () => r()));
      sock.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"rule": "half a bo');
      await sleep(200);
      const { code, ms } = await proc.term();
      assert.equal(code, 0);
      assert.ok(ms <= drainms + 1000, `exit took ${Math.round(ms)} ms`);
    } finally {
      sock.destroy();
      if (proc.child.exitCode === null) await proc.kill9();
      await rx.close();
    }
  });

  test('a NATS output whose server is gone does not hold shutdown past drainms + 1 s', async () => {
    const nats = await NatsServer.start();
    const drainms = 1500;
    const proc = await RouteProcess.start(configFile(`drainms: ${drainms}\nnats: { hostport: "${nats.url}" }\n`));
    try {
      for (let i = 0; i < 5; i++) assert.equal((await postAlert(proc.url, falcoAlert())).status, 200);
      await eventually(async () => assert.equal(metricValue(await (await fetch(`${proc.url}/metrics`)).text(), 'peregrine_output_alerts_total', { output: 'nats', result: 'sent' }), 5));
      await nats.stop(); // the client now reconnects forever
      for (let i = 0; i < 5; i++) assert.equal((await postAlert(proc.url, falcoAlert())).status, 200);
      await sleep(300);
      const { code, ms } = await proc.term();
      assert.equal(code, 0);
      assert.ok(ms <= drainms + 1000, `exit took ${Math.round(ms)} ms`);
    } finally {
      if (proc.child.exitCode === null) await proc.kill9();
      await nats.stop();
    }
  });

  test('peregrine deadletter list and replay: given-up alerts go back to the output that failed them', async () => {
    const rx = await HttpReceiver.start();
    rx.always({ status: 400, body: 'bad request' });
    const other = await HttpReceiver.start();
    const cfg = configFile(`webhook: { address: "${rx.url}/" }
outputs:
  - { name: other, type: webhook, address: "${other.url}/" }
`);
    let proc = await RouteProcess.start(cfg);
    try {
      for (let id = 0; id < 3; id++) assert.equal((await postAlert(proc.url, falcoAlert({ output_fields: { id } }))).status, 200);
      await eventually(async () => assert.equal(metricValue(await (await fetch(`${proc.url}/metrics`)).text(), 'peregrine_output_deadletters_total', { output: 'webhook' }), 3));
      await other.waitFor(3);
      // The router holds the spool: the CLI says so and changes nothing.
      const busy = await runCli(['deadletter', 'list', '-c', cfg]);
      assert.equal(busy.code, 1);
      assert.match(busy.stderr, /in use by process/);
      assert.equal((await proc.term()).code, 0);

      const list = await runCli(['deadletter', 'list', '-c', cfg, '--json']);
      assert.equal(list.code, 0, list.stderr);
      const letters = list.stdout.trim().split('\n').map((l) => JSON.parse(l) as { output: string; error: string; alert: { output_fields: { id: number } } });
      assert.deepEqual(letters.map((d) => d.alert.output_fields.id).sort(), [0, 1, 2]);
      assert.ok(letters.every((d) => d.output === 'webhook' && /400/.test(d.error)));

      rx.always({ status: 200 });
      const replay = await runCli(['deadletter', 'replay', '-c', cfg]);
      assert.equal(replay.code, 0, replay.stderr);
      assert.match(replay.stderr, /3 dead letter\(s\) put back/);
      assert.equal((await runCli(['deadletter', 'list', '-c', cfg, '--json'])).stdout.trim(), '');

      const before = rx.requests.length;
      proc = await RouteProcess.start(cfg);
      await eventually(() => assert.deepEqual(rx.requests.slice(before).filter((q) => q.headers['content-type']).map((q) => idOf(q.body)).sort(), [0, 1, 2]));
      await sleep(300);
      assert.equal(other.requests.length, 3, 'replayed alerts go only to the output that gave them up');
      assert.equal((await proc.term()).code, 0);
    } finally {
      if (proc.child.exitCode === null) await proc.kill9();
      await Promise.all([rx.close(), other.close()]);
    }
  });
});
