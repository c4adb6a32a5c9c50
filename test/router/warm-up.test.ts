// The start-up warm-up (src/router/warm-up/): alerts through a private copy of the router before the real one
// listens. Shown against the real CLI process, a real loopback webhook receiver and a real nats-server: the
// configured destinations, the spool, the metrics and the UI store see nothing of it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as natsConnect } from '@nats-io/transport-node';
import { loadConfig } from '../../src/config/load.ts';
import { warmUp } from '../../src/router/warm-up/warm-up.ts';
import { outputRegistry } from '../../outputs/registry.ts';
import { falcoAlert, postAlert } from '../support/alerts.ts';
import { eventually } from '../support/eventually.ts';
import { HttpReceiver } from '../support/http-receiver.ts';
import { metricValue } from '../support/metrics.ts';
import { RouteProcess } from '../support/route-process.ts';
import { NatsServer } from '../services/nats.ts';

const warmUpDirs = () => readdirSync(tmpdir()).filter((f) => f.startsWith(`peregrine-warm-up-${process.pid}-`));

describe('start-up warm-up', () => {
  test('peregrine route warms up before listening; destinations, spool, metrics and UI store get nothing from it', async () => {
    const rx = await HttpReceiver.start();
    const nats = await NatsServer.start();
    const sub = await natsConnect({ servers: nats.url });
    const natsSeen: string[] = [];
    sub.subscribe('falco.>', { callback: (_e, m) => { natsSeen.push(m.string()); } });
    await sub.flush();
    const dir = mkdtempSync(join(tmpdir(), 'peregrine-warm-up-test-'));
    const file = join(dir, 'config.yaml');
    // A filter the warm-up alert would not pass and a header it must not carry: the warm-up is not held by
    // the one nor given the other. NATS has no warm-up of its own: it must not see the warm-up's alerts either.
    writeFileSync(file, `listenaddress: 127.0.0.1
listenport: 0
spool: { dir: "${join(dir, 'spool')}" }
ui: { dbfile: "${join(dir, 'ui.sqlite')}" }
webhook: { address: "${rx.url}/", minimumpriority: critical, customheaders: { authorization: "Bearer destination-secret" } }
nats: { hostport: "${nats.url}" }
`);
    let proc: RouteProcess | undefined;
    try {
      proc = await RouteProcess.start(file);
      const warmed = proc.logs.find((l) => l.msg === 'warmed up');
      assert.ok(warmed, 'the warm-up is logged');
      assert.deepEqual(warmed.outputs, ['webhook']);
      assert.equal(warmed.accepted, 400);
      assert.equal(warmed.delivered, 400, 'every warm-up alert went through the webhook sender to the private receiver');
      const listening = proc.logs.findIndex((l) => l.msg === 'router listening');
      assert.ok(proc.logs.indexOf(warmed) < listening, 'warmed up before the input opened');

      const metrics = await (await fetch(`${proc.url}/metrics`)).text();
      assert.equal(metricValue(metrics, 'falcosecurity_falcosidekick_inputs_total', { source: 'requests', status: 'accepted' }), 0);
      assert.equal(metricValue(metrics, 'falcosecurity_falcosidekick_outputs_total', { destination: 'webhook', status: 'ok' }), 0);
      assert.equal(metricValue(metrics, 'peregrine_output_alerts_total', { output: 'webhook', result: 'sent' }), 0);
      assert.equal(metricValue(metrics, 'peregrine_spool_records'), 0);
      const stored = await (await fetch(`${proc.url}/api/v1/alerts`)).json() as { alerts: unknown[] };
      assert.equal(stored.alerts.length, 0, 'nothing in the UI store');

      // The real path works as before: one alert, delivered once to each destination.
      const res = await postAlert(proc.url, falcoAlert({ priority: 'Critical' }));
      assert.equal(res.status, 200);
      await eventually(() => assert.ok(rx.requests.length === 1 && natsSeen.length === 1, 'delivered to both'));
      assert.equal(rx.requests[0]!.headers.authorization, 'Bearer destination-secret');
      assert.doesNotMatch(rx.requests[0]!.body, /warm-up/);
      await eventually(async () => {
        assert.equal(((await (await fetch(`${proc!.url}/api/v1/alerts`)).json()) as { alerts: unknown[] }).alerts.length, 1);
      });
      assert.equal(rx.requests.length, 1);
      assert.equal(natsSeen.length, 1);
    } finally {
      await proc?.term();
      await sub.close();
      await nats.stop();
      await rx.down();
    }
  });

  test('in process: every warm-up alert reaches the private receiver, none the configured one; its spool directory is removed', async () => {
    const rx = await HttpReceiver.start();
    const spoolDir = mkdtempSync(join(tmpdir(), 'peregrine-warm-up-spool-'));
    const config = loadConfig({ env: {}, yamlText: `listenaddress: 127.0.0.1
listenport: 0
authtoken: input-token
ui: { enabled: false }
spool: { dir: "${spoolDir}" }
outputs:
  - { name: wh-a, type: webhook, address: "${rx.url}/a", rules: [other] }
  - { name: wh-b, type: webhook, address: "${rx.url}/b", method: PUT, delivery: { ratepersecond: 1 } }
` });
    try {
      const r = await warmUp(config, outputRegistry, { alerts: 50 });
      assert.deepEqual(r.outputs, ['wh-a', 'wh-b']);
      assert.equal(r.accepted, 50, 'the input token is sent to the private copy');
      assert.equal(r.delivered, 100, 'both instances, despite the rule filter of one and the rate limit of the other');
      assert.equal(rx.requests.length, 0);
      assert.deepEqual(readdirSync(spoolDir), [], 'the configured spool directory is not written');
      assert.deepEqual(warmUpDirs(), [], 'the private spool is removed');
    } finally {
      await rx.down();
    }
  });
});
