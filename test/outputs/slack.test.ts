import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { slackMessage, slackOutput, type SlackConfig } from '../../outputs/slack.ts';
import { compileTemplate } from '../../src/router/template.ts';
import { parsedAlert } from '../support/alerts.ts';
import { HttpReceiver } from '../support/http-receiver.ts';
import { DeliveryError } from '../../src/router/output.ts';
import { silentLogger } from '../../src/log.ts';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { certFor, forwardProxy, PROXY_ONLY_NAME } from '../support/forward-proxy.ts';

const cfg: SlackConfig = slackOutput.schema.parse({ webhookurl: 'http://127.0.0.1/x' });

const alert = parsedAlert;

describe('Slack message layout', () => {
  test('attachments: colour per priority, fields, footer', () => {
    const m = slackMessage(alert({ priority: 'Critical' }), cfg);
    const att = m.attachments![0]!;
    assert.equal(att.color, '#ff5400');
    assert.equal(att.text, alert().output);
    const titles = att.fields!.map((f) => f.title);
    assert.deepEqual(titles.slice(0, 5), ['rule', 'priority', 'source', 'hostname', 'tags']);
    assert.ok(titles.includes('fd.name'));
    assert.equal(att.fields!.find((f) => f.title === 'priority')!.value, 'Critical');
    assert.equal(att.fields!.find((f) => f.title === 'proc.pid')!.value, '4242');
    assert.equal(att.fields!.at(-1)!.title, 'time');
    assert.equal(att.footer, 'Peregrine');
  });
  test('colours follow priority', () => {
    assert.equal(slackMessage(alert({ priority: 'Warning' }), cfg).attachments![0]!.color, '#ffc700');
    assert.equal(slackMessage(alert({ priority: 'Debug' }), cfg).attachments![0]!.color, '#ccfff2');
  });
  test('outputformat text omits fields; fields omits text', () => {
    const t = slackMessage(alert(), { ...cfg, outputformat: 'text' }).attachments![0]!;
    assert.equal(t.fields, undefined);
    assert.ok(t.text);
    const f = slackMessage(alert(), { ...cfg, outputformat: 'fields' }).attachments![0]!;
    assert.equal(f.text, undefined);
    assert.ok(f.fields!.length > 0);
  });
  test('messageformat, username, icon, channel', () => {
    const m = slackMessage(alert(), { ...cfg, username: 'sec', icon: 'https://x/icon.png', channel: '#alerts' },
      compileTemplate('*{{ .Rule }}* on {{ .Hostname }} by {{ index .OutputFields "user.name" }}', 'm'));
    assert.equal(m.text, '*Read sensitive file untrusted* on node-1 by root');
    assert.equal(m.username, 'sec');
    assert.equal(m.icon_url, 'https://x/icon.png');
    assert.equal(m.channel, '#alerts');
  });
  test('Block Kit layout', () => {
    const m = slackMessage(alert(), { ...cfg, layout: 'blocks' });
    assert.equal(m.attachments, undefined);
    const types = m.blocks!.map((b) => b.type);
    assert.equal(types[0], 'header');
    assert.equal(types.at(-1), 'context');
    assert.ok(types.includes('section'));
    assert.match(JSON.stringify(m.blocks), /\/etc\/shadow/);
  });
});

describe('Slack sender against a real HTTP server', () => {
  test('posts the message; maps 429 + Retry-After and 4xx', async () => {
    const rx = await HttpReceiver.start();
    try {
      const sender = await slackOutput.create({ ...cfg, webhookurl: `${rx.url}/services/T/B/X` }, { name: 'slack', log: silentLogger });
      await sender.send([alert()], AbortSignal.timeout(5000));
      assert.equal(rx.requests[0]!.path, '/services/T/B/X');
      assert.equal(JSON.parse(rx.requests[0]!.body).attachments[0].fields[0].value, 'Read sensitive file untrusted');

      rx.respond({ status: 429, headers: { 'retry-after': '3' }, body: 'rate_limited' });
      await assert.rejects(sender.send([alert()], AbortSignal.timeout(5000)),
        (e: unknown) => e instanceof DeliveryError && e.retryable && e.retryAfterMs === 3000 && e.status === 429);
      rx.respond({ status: 404, body: 'no_service' });
      await assert.rejects(sender.send([alert()], AbortSignal.timeout(5000)),
        (e: unknown) => e instanceof DeliveryError && !e.retryable && e.status === 404);
      rx.respond('hang');
      await assert.rejects(sender.send([alert()], AbortSignal.timeout(300)), (e: unknown) => e instanceof DeliveryError && e.retryable);
    } finally {
      await rx.close();
    }
  });
});

// Falcosidekick's Go client takes HTTPS_PROXY / NO_PROXY from the environment for Slack as for every HTTP
// output; so does Peregrine's (the outputs' own client, src/http-client/).
test('Slack goes through HTTPS_PROXY (a CONNECT tunnel) and keeps Retry-After on the way back', async () => {
  const { cert, key } = certFor(PROXY_ONLY_NAME);
  const bodies: string[] = [];
  const target = createHttpsServer({ cert, key }, (req, res) => {
    let b = '';
    req.on('data', (c: Buffer) => { b += c; });
    req.on('end', () => {
      bodies.push(b);
      if (bodies.length === 2) res.writeHead(429, { 'retry-after': '7' }).end('rate_limited');
      else res.end('ok');
    });
  });
  target.listen(0, '127.0.0.1');
  await once(target, 'listening');
  const port = (target.address() as AddressInfo).port;
  const proxy = await forwardProxy();
  const saved = { HTTPS_PROXY: process.env.HTTPS_PROXY, NO_PROXY: process.env.NO_PROXY };
  process.env.HTTPS_PROXY = `http://127.0.0.1:${proxy.port}`;
  delete process.env.NO_PROXY;
  try {
    // cacertfile trusts the target's own certificate: TLS runs end to end through the tunnel.
    const caFile = join(mkdtempSync(join(tmpdir(), 'prg-slack-proxy-')), 'ca.pem');
    writeFileSync(caFile, cert);
    const sender = await slackOutput.create({ ...cfg, webhookurl: `https://${PROXY_ONLY_NAME}:${port}/services/T/B/X`, cacertfile: caFile }, { name: 'slack', log: silentLogger });
    await sender.send([alert()], AbortSignal.timeout(5000));
    await assert.rejects(sender.send([alert()], AbortSignal.timeout(5000)),
      (e: unknown) => e instanceof DeliveryError && e.status === 429 && e.retryAfterMs === 7000);
    assert.equal(bodies.length, 2);
    assert.equal(JSON.parse(bodies[0]!).attachments[0].fields[0].value, 'Read sensitive file untrusted');
    assert.deepEqual(proxy.seen.map((s) => `${s.kind} ${s.target}`), [`connect ${PROXY_ONLY_NAME}:${port}`]);
    await sender.close?.();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    proxy.close();
    target.closeAllConnections();
    target.close();
  }
});
