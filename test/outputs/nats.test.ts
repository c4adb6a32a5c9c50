import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { natsSubject } from '../../outputs/nats.ts';
import { parseAlert } from '../../src/router/input.ts';
import { falcoAlert, postAlert } from '../support/alerts.ts';
import { eventually } from '../support/eventually.ts';
import { metricValue } from '../support/metrics.ts';
import { NatsServer } from '../services/nats.ts';
import { startRouter } from '../support/router.ts';


test('subject normalisation as Falcosidekick does it', () => {
  const r = parseAlert(falcoAlert({ rule: 'Terminal shell in container (v2)!', priority: 'Critical' }));
  assert.ok(r.ok);
  assert.equal(natsSubject('falco.<priority>.<rule>', r.alert), 'falco.critical.terminal_shell_in_container_v2');
});

describe('NATS output against a real nats-server', () => {
  let server: NatsServer;
  let client: NatsConnection;
  before(async () => {
    server = await NatsServer.start();
    client = await connect({ servers: server.url });
  });
  after(async () => {
    await client?.close();
    await server?.stop();
  });

  test('alerts published through the router arrive on the templated subject', async () => {
    const got: { subject: string; data: Record<string, unknown> }[] = [];
    const sub = client.subscribe('falco.>', { callback: (_e, m) => { got.push({ subject: m.subject, data: m.json() }); } });
    await client.flush();
    const r = await startRouter(`nats: { hostport: "${server.url}", minimumpriority: warning }\n`);
    try {
      await postAlert(r.url, falcoAlert({ priority: 'Critical', rule: 'Terminal shell in container' }));
      await postAlert(r.url, falcoAlert({ priority: 'Notice', rule: 'Filtered out' }));
      await postAlert(r.url, falcoAlert({ priority: 'Warning' }));
      await eventually(() => assert.equal(got.length, 2));
      const subjects = got.map((g) => g.subject).sort();
      assert.deepEqual(subjects, ['falco.critical.terminal_shell_in_container', 'falco.warning.read_sensitive_file_untrusted']);
      const crit = got.find((g) => g.subject.startsWith('falco.critical'))!.data;
      assert.equal(crit.priority, 'Critical');
      assert.equal((crit.output_fields as Record<string, unknown>)['fd.name'], '/etc/shadow');
      assert.match(String(crit.uuid), /^[0-9a-f-]{36}$/);
    } finally {
      sub.unsubscribe();
      await r.router.close({ drainMs: 1000 });
    }
  });

  test('JetStream: acked publishes; alerts sent while the server is down are delivered after it restarts', async () => {
    const jsm = await jetstreamManager(client);
    await jsm.streams.add({ name: 'FALCO', subjects: ['sec.>'] });
    const r = await startRouter(`
nats: { hostport: "${server.url}", subjecttemplate: "sec.<priority>", jetstream: true,
        delivery: { initialbackoffms: 100, maxbackoffms: 500, maxretries: 100, timeoutms: 2000 } }
`);
    try {
      await postAlert(r.url, falcoAlert());
      await eventually(async () => assert.equal((await jsm.streams.info('FALCO')).state.messages, 1));

      await client.close();
      await server.stop();
      for (let i = 0; i < 5; i++) assert.equal((await postAlert(r.url, falcoAlert({ output_fields: { i } }))).status, 200);
      await new Promise((res) => setTimeout(res, 1000)); // a few failed attempts while it is down
      await server.start();

      client = await connect({ servers: server.url });
      const jsm2 = await jetstreamManager(client);
      // The stream may hold the last ones before the router has its acks (publishes buffered while the server
      // was down go out on reconnect, beside the retries): wait for the router to count all six sent.
      await eventually(async () => assert.equal(metricValue(await r.router.metricsText(), 'peregrine_output_alerts_total', { output: 'nats', result: 'sent' }), 6), 20000);
      // Stored once each: retried publishes carry the alert's uuid as message id, which JetStream dedupes.
      assert.equal((await jsm2.streams.info('FALCO')).state.messages, 6);
      const m = await r.router.metricsText();
      assert.ok(metricValue(m, 'peregrine_output_retries_total', { output: 'nats' }) >= 1);
      assert.equal(metricValue(m, 'peregrine_output_alerts_total', { output: 'nats', result: 'dropped' }), 0);
    } finally {
      await r.router.close({ drainMs: 1000 });
    }
  });
});
