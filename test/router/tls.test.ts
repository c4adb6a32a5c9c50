import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { webhookOutput } from '../../outputs/webhook.ts';
import { DeliveryError } from '../../src/router/output.ts';
import { silentLogger } from '../../src/log.ts';
import { falcoAlert, parsedAlert } from '../support/alerts.ts';
import { startRouter } from '../support/router.ts';
import { selfSignedCert } from '../support/tls.ts';
import { eventually } from '../support/eventually.ts';

test('the HTTP input serves HTTPS with tlsserver.deploy', async () => {
  const tls = selfSignedCert();
  const r = await startRouter(`tlsserver: { deploy: true, certfile: ${tls.certFile}, keyfile: ${tls.keyFile} }\n`);
  const agent = new Agent({ connect: { ca: tls.cert } });
  try {
    const url = r.url.replace('http:', 'https:');
    const res = await request(`${url}/`, { method: 'POST', body: JSON.stringify(falcoAlert()), dispatcher: agent });
    assert.equal(res.statusCode, 200);
    assert.match(((await res.body.json()) as { uuid: string }).uuid, /^[0-9a-f-]{36}$/);
    // Plain HTTP to the TLS port is not served.
    await assert.rejects(fetch(`${r.url}/healthz`));
  } finally {
    await agent.close();
    await r.router.close({ drainMs: 0 });
  }
});

/** An HTTPS receiver on loopback with a self-signed certificate; records request bodies. */
async function httpsReceiver() {
  const tls = selfSignedCert();
  const bodies: string[] = [];
  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    let b = '';
    req.on('data', (c: Buffer) => { b += c; });
    req.on('end', () => { bodies.push(b); res.end('ok'); });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { tls, bodies, address, close: () => { server.closeAllConnections(); server.close(); } };
}

test('webhook over TLS: an unknown CA is refused, cacertfile or checkcert: false are accepted', async () => {
  const { tls, bodies, address, close } = await httpsReceiver();
  try {
    const strict = await webhookOutput.create(webhookOutput.schema.parse({ address }), { name: 'w', log: silentLogger });
    await assert.rejects(strict.send([parsedAlert()], AbortSignal.timeout(5000)), (e: unknown) => e instanceof DeliveryError);
    const withCa = await webhookOutput.create(webhookOutput.schema.parse({ address, cacertfile: tls.certFile }), { name: 'w', log: silentLogger });
    await withCa.send([parsedAlert()], AbortSignal.timeout(5000));
    const unchecked = await webhookOutput.create(webhookOutput.schema.parse({ address, checkcert: false }), { name: 'w', log: silentLogger });
    await unchecked.send([parsedAlert()], AbortSignal.timeout(5000));
    assert.equal(bodies.length, 2);
    await Promise.all([strict.close?.(), withCa.close?.(), unchecked.close?.()]);
  } finally {
    close();
  }
});

test('tlsclient.cacertfile (Falcosidekick\'s CA for every HTTP output) is trusted by the webhook; an unreadable one stops the start naming the key', async () => {
  const { tls, bodies, address, close } = await httpsReceiver();
  const r = await startRouter(`tlsclient: { cacertfile: ${tls.certFile} }\nwebhook: { address: "${address}" }\n`);
  try {
    const res = await fetch(`${r.url}/`, { method: 'POST', body: JSON.stringify(falcoAlert({ rule: 'through the shared CA' })) });
    assert.equal(res.status, 200);
    await eventually(() => assert.equal(bodies.length, 1), 10_000);
    assert.equal(JSON.parse(bodies[0]!).rule, 'through the shared CA');
  } finally {
    await r.router.close({ drainMs: 0 });
    close();
  }
  await assert.rejects(startRouter(`tlsclient: { cacertfile: /nonexistent/ca.pem }\nwebhook: { address: "${address}" }\n`),
    /tlsclient\.cacertfile: cannot read \/nonexistent\/ca\.pem: no such file/);
});
