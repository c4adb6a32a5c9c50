// Finding 6 of issue #14: Falcosidekick's tlsserver.mutualtls + cacertfile, and its plain-HTTP side port
// (notlsport + notlspaths) for probes that cannot speak TLS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Agent, request } from 'undici';
import { falcoAlert } from '../support/alerts.ts';
import { startRouter } from '../support/router.ts';
import { selfSignedCert, testPki } from '../support/tls.ts';

async function freePort(): Promise<number> {
  return new Promise((ok) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => ok(p)); }); });
}

test('mutualtls: a client certificate signed by cacertfile is served; none or another is refused in the handshake', async () => {
  const server = selfSignedCert();
  const pki = testPki();
  const c = { caFile: pki.caFile, signed: pki.client, stranger: pki.stranger };
  const r = await startRouter(`tlsserver: { deploy: true, certfile: ${server.certFile}, keyfile: ${server.keyFile}, mutualtls: true, cacertfile: ${c.caFile} }\n`);
  const url = r.url.replace('http:', 'https:');
  const agent = (client?: { cert: string; key: string }) => new Agent({ connect: { ca: server.cert, ...(client ?? {}) } });
  const agents = [agent(c.signed), agent(), agent(c.stranger)];
  try {
    const ok = await request(`${url}/`, { method: 'POST', body: JSON.stringify(falcoAlert()), dispatcher: agents[0] });
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
    for (const a of agents.slice(1)) {
      await assert.rejects(request(`${url}/healthz`, { dispatcher: a }).then((res) => res.body.text()));
    }
  } finally {
    await Promise.all(agents.map((a) => a.close()));
    await r.router.close({ drainMs: 0 });
  }
});

test('notlspaths are served over plain HTTP on notlsport, other paths are not', async () => {
  const server = selfSignedCert();
  const plain = await freePort();
  const r = await startRouter(`tlsserver: { deploy: true, certfile: ${server.certFile}, keyfile: ${server.keyFile}, notlsport: ${plain}, notlspaths: [/healthz, /ping] }\n`);
  try {
    const side = `http://127.0.0.1:${plain}`;
    assert.equal(await (await fetch(`${side}/ping`)).text(), 'pong\n');
    const health = await fetch(`${side}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');
    const refused = await fetch(`${side}/`, { method: 'POST', body: JSON.stringify(falcoAlert()) });
    assert.equal(refused.status, 404);
    assert.match(await refused.text(), /TLS only/);
    assert.equal((await fetch(`${side}/metrics`)).status, 404);
  } finally {
    await r.router.close({ drainMs: 0 });
  }
});

test('a mutualtls CA file that cannot be read stops the start naming the key', async () => {
  const server = selfSignedCert();
  await assert.rejects(startRouter(`tlsserver: { deploy: true, certfile: ${server.certFile}, keyfile: ${server.keyFile}, mutualtls: true, cacertfile: /nonexistent/ca.crt }\n`),
    /tlsserver\.cacertfile: cannot read \/nonexistent\/ca\.crt: no such file/);
});
