// Falcosidekick's mutual TLS towards destinations: an output (webhook, Slack, NATS) with `mutualtls: true` presents the client
// certificate named by mutualtlsclient.* (or found in mutualtlsfilespath) and trusts mutualtlsclient.cacertfile.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { selfSignedCert } from '../support/tls.ts';

/** A CA; a server certificate for 127.0.0.1 and a client certificate (CN=falco), both signed by it. */
function pki() {
  const dir = mkdtempSync(join(tmpdir(), 'prg-mtls-client-'));
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test-ca', '-keyout', f('ca.key'), '-out', f('ca.crt'));
  for (const [name, cn] of [['server', '127.0.0.1'], ['client', 'falco']] as const) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
    const ext = f(`${name}.ext`);
    execFileSync('sh', ['-c', `printf '%s\\n' "${name === 'server' ? 'subjectAltName=IP:127.0.0.1,DNS:localhost' : 'extendedKeyUsage=clientAuth'}" > ${ext}`]);
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', ext, '-out', f(`${name}.crt`));
  }
  // Falcosidekick's mutualtlsfilespath layout: client.crt, client.key, ca.crt in one directory.
  const filesPath = f('certs');
  mkdirSync(filesPath);
  for (const n of ['client.crt', 'client.key', 'ca.crt']) copyFileSync(f(n), join(filesPath, n));
  return { dir, filesPath, caFile: f('ca.crt'), certFile: f('client.crt'), keyFile: f('client.key'), serverCertFile: f('server.crt'), serverKeyFile: f('server.key'),
    server: { cert: readFileSync(f('server.crt')), key: readFileSync(f('server.key')), ca: readFileSync(f('ca.crt')) } };
}

/** An HTTPS receiver that refuses any client without a certificate signed by `ca`; records each caller's CN. */
async function mtlsReceiver(tls: { cert: Buffer | string; key: Buffer | string; ca: Buffer }) {
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
  let p: ReturnType<typeof pki>;
  let rx: Awaited<ReturnType<typeof mtlsReceiver>>;
  before(async () => {
    p = pki();
    rx = await mtlsReceiver(p.server);
  });
  after(() => rx.close());

  test('webhook with mutualtls and mutualtlsclient.*: delivered with the client certificate', async () => {
    const r = await startRouter(`
mutualtlsclient: { certfile: ${p.certFile}, keyfile: ${p.keyFile}, cacertfile: ${p.caFile} }
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
    const other = await mtlsReceiver({ cert: stranger.cert, key: stranger.key, ca: p.server.ca });
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
mutualtlsclient: { certfile: ${p.certFile}, keyfile: /nonexistent/client.key }
webhook: { address: "${rx.url}", mutualtls: true }
`), /output "webhook" \(webhook\) cannot start: mutualtlsclient\.keyfile: cannot read \/nonexistent\/client\.key: no such file/);
    await assert.rejects(startRouter(`
mutualtlsfilespath: /nonexistent/certs
webhook: { address: "${rx.url}", mutualtls: true }
`), /mutualtlsfilespath: cannot read \/nonexistent\/certs\/client\.crt: no such file/);
  });

  test('nats with mutualtls: published to a nats-server that verifies client certificates (tls_verify)', async () => {
    const server = await NatsServer.start(['--tls', '--tlscert', p.serverCertFile, '--tlskey', p.serverKeyFile, '--tlscacert', p.caFile, '--tlsverify']);
    const url = `tls://127.0.0.1:${server.port}`;
    const sub = await connect({ servers: url, tls: { certFile: p.certFile, keyFile: p.keyFile, caFile: p.caFile } });
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
