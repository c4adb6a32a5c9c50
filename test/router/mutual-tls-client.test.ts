// Falcosidekick's mutual TLS towards destinations: an output (webhook, Slack, NATS) with `mutualtls: true` presents the client
// certificate named by mutualtlsclient.* (or found in mutualtlsfilespath) and trusts mutualtlsclient.cacertfile.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { webhookOutput } from '../../outputs/webhook.ts';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/log.ts';
import { parseAlert } from '../../src/router/input.ts';
import { loadClientCertificate } from '../../src/router/mutual-tls.ts';
import { DeliveryError } from '../../src/router/output.ts';
import { falcoAlert, postAlert } from '../support/alerts.ts';
import { eventually } from '../support/eventually.ts';
import { startRouter } from '../support/router.ts';
import { NatsServer } from '../services/nats.ts';
import { connect } from '@nats-io/transport-node';
import { selfSignedCert, testPki } from '../support/tls.ts';

/** An HTTPS receiver that refuses any client without a certificate signed by `ca`; records each caller's CN. */
async function mtlsReceiver(tls: { cert: string; key: string; ca: string }) {
  const got: { cn: string; body: string }[] = [];
  const server: Server = createServer({ ...tls, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c; });
    req.on('end', () => {
      got.push({ cn: String((req.socket as TLSSocket).getPeerCertificate().subject?.CN), body });
      res.end('ok');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { got, url, close: () => { server.closeAllConnections(); server.close(); } };
}

function alert(rule: string) {
  const r = parseAlert(falcoAlert({ rule }));
  assert.ok(r.ok);
  return r.alert;
}

describe('mutual TLS from outputs (webhook, Slack, NATS)', () => {
  let p: ReturnType<typeof testPki>;
  let rx: Awaited<ReturnType<typeof mtlsReceiver>>;
  before(async () => {
    p = testPki();
    rx = await mtlsReceiver({ cert: p.server.cert, key: p.server.key, ca: p.ca });
  });
  after(() => rx.close());

  test('webhook with mutualtls and mutualtlsclient.*: delivered with the client certificate', async () => {
    const r = await startRouter(`
mutualtlsclient: { certfile: ${p.client.certFile}, keyfile: ${p.client.keyFile}, cacertfile: ${p.caFile} }
webhook: { address: "${rx.url}", mutualtls: true }
`);
    try {
      assert.equal((await postAlert(r.url, falcoAlert({ rule: 'over mutual TLS' }))).status, 200);
      await eventually(() => assert.ok(rx.got.some((g) => JSON.parse(g.body).rule === 'over mutual TLS')), 10_000);
      assert.equal(rx.got.find((g) => JSON.parse(g.body).rule === 'over mutual TLS')!.cn, 'falco');
    } finally {
      await r.router.close({ drainMs: 0 });
    }
  });

  test('slack with mutualtls and the files in mutualtlsfilespath (client.crt, client.key, ca.crt): delivered', async () => {
    const r = await startRouter(`
mutualtlsfilespath: ${p.filesPath}
slack: { webhookurl: "${rx.url}", mutualtls: true }
`);
    try {
      assert.equal((await postAlert(r.url, falcoAlert({ rule: 'slack over mutual TLS' }))).status, 200);
      await eventually(() => assert.ok(rx.got.some((g) => g.body.includes('slack over mutual TLS'))), 10_000);
      assert.equal(rx.got.find((g) => g.body.includes('slack over mutual TLS'))!.cn, 'falco');
    } finally {
      await r.router.close({ drainMs: 0 });
    }
  });

  test('without mutualtls the same server refuses the webhook (it trusts the server all the same)', async () => {
    const out = await webhookOutput.create(webhookOutput.schema.parse({ address: rx.url, cacertfile: p.caFile }), { name: 'w', log: silentLogger });
    const before = rx.got.length;
    await assert.rejects(out.send([alert('no client certificate')], AbortSignal.timeout(5000)), (e: unknown) => e instanceof DeliveryError && e.retryable);
    assert.equal(rx.got.length, before);
    await out.close?.();
  });

  test('with mutualtls the server\'s certificate is verified even with checkcert: false, as Falcosidekick does', async () => {
    const stranger = selfSignedCert();
    const other = await mtlsReceiver({ cert: stranger.cert, key: stranger.key, ca: p.ca });
    try {
      const clientCert = loadClientCertificate({ mutualtlsfilespath: p.filesPath, mutualtlsclient: { certfile: '', keyfile: '', cacertfile: '' } });
      const out = await webhookOutput.create(webhookOutput.schema.parse({ address: other.url, checkcert: false }), { name: 'w', log: silentLogger, clientCert });
      await assert.rejects(out.send([alert('unverified server')], AbortSignal.timeout(5000)), /self-signed|certificate/i);
      assert.equal(other.got.length, 0);
      await out.close?.();
    } finally {
      other.close();
    }
  });

  test('an unreadable client file stops the start naming the key and the path', async () => {
    await assert.rejects(startRouter(`
mutualtlsclient: { certfile: ${p.client.certFile}, keyfile: /nonexistent/client.key }
webhook: { address: "${rx.url}", mutualtls: true }
`), /output "webhook" \(webhook\) cannot start: mutualtlsclient\.keyfile: cannot read \/nonexistent\/client\.key: no such file/);
    await assert.rejects(startRouter(`
mutualtlsfilespath: /nonexistent/certs
webhook: { address: "${rx.url}", mutualtls: true }
`), /mutualtlsfilespath: cannot read \/nonexistent\/certs\/client\.crt: no such file/);
  });

  test('nats with mutualtls: published to a nats-server that verifies client certificates (tls_verify)', async () => {
    const server = await NatsServer.start(['--tls', '--tlscert', p.server.certFile, '--tlskey', p.server.keyFile, '--tlscacert', p.caFile, '--tlsverify']);
    const url = `tls://127.0.0.1:${server.port}`;
    const sub = await connect({ servers: url, tls: { certFile: p.client.certFile, keyFile: p.client.keyFile, caFile: p.caFile } });
    const got: string[] = [];
    sub.subscribe('falco.>', { callback: (_e, m) => { got.push(m.string()); } });
    await sub.flush();
    const r = await startRouter(`
mutualtlsfilespath: ${p.filesPath}
nats: { hostport: "${url}", mutualtls: true }
`);
    // The same server refuses a client without a certificate.
    await assert.rejects(connect({ servers: url, tls: { caFile: p.caFile }, reconnect: false, timeout: 3000 }));
    try {
      assert.equal((await postAlert(r.url, falcoAlert({ rule: 'nats over mutual TLS' }))).status, 200);
      await eventually(() => assert.ok(got.some((g) => JSON.parse(g).rule === 'nats over mutual TLS')), 10_000);
    } finally {
      await r.router.close({ drainMs: 0 });
      await sub.close();
      await server.stop();
    }
  });

  test('an output that cannot present a certificate refuses mutualtls: true by name', async () => {
    await assert.rejects(startRouter(`kafka: { hostport: "127.0.0.1:9", topic: t, mutualtls: true }\n`),
      /output "kafka" \(kafka\) cannot start: mutualtls: the kafka output cannot present a client certificate/);
  });

  test('Falcosidekick\'s environment names set the same keys', () => {
    const c = loadConfig({ env: {
      MUTUALTLSFILESPATH: '/certs', MUTUALTLSCLIENT_CERTFILE: '/c.crt', MUTUALTLSCLIENT_KEYFILE: '/c.key', MUTUALTLSCLIENT_CACERTFILE: '/ca.crt',
      WEBHOOK_ADDRESS: 'https://example.invalid/', WEBHOOK_MUTUALTLS: 'true',
    }, yamlText: '' });
    assert.equal(c.mutualtlsfilespath, '/certs');
    assert.deepEqual(c.mutualtlsclient, { certfile: '/c.crt', keyfile: '/c.key', cacertfile: '/ca.crt' });
    assert.equal((c.webhook as { mutualtls: boolean }).mutualtls, true);
  });
});
