// Finding 6 of issue #14: the bearer token is compared in constant time, the scheme in any case (RFC 7235), and
// /metrics can be put behind the token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bearerMatches } from '../../src/router/http/auth.ts';
import { falcoAlert, postAlert } from '../support/alerts.ts';
import { startRouter } from '../support/router.ts';

test('bearerMatches: scheme in any case, exact token, no prefix or length shortcut', () => {
  assert.ok(bearerMatches('Bearer s3cret-token', 's3cret-token'));
  assert.ok(bearerMatches('bearer s3cret-token', 's3cret-token'));
  assert.ok(bearerMatches('BEARER   s3cret-token ', 's3cret-token'));
  for (const h of [undefined, '', 'Bearer', 'Bearer s3cret', 'Bearer s3cret-token-and-more', 'Basic s3cret-token', 's3cret-token', 'Bearers3cret-token']) {
    assert.equal(bearerMatches(h, 's3cret-token'), false, String(h));
  }
});

test('authmetrics puts /metrics behind the token; health and ping stay open for probes', async () => {
  const r = await startRouter('authtoken: s3cret-token\nauthmetrics: true\n');
  try {
    assert.equal((await fetch(`${r.url}/metrics`)).status, 401);
    assert.equal((await fetch(`${r.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    const ok = await fetch(`${r.url}/metrics`, { headers: { authorization: 'bearer s3cret-token' } });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /falcosecurity_falcosidekick_inputs_total/);
    assert.equal((await fetch(`${r.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${r.url}/ping`)).status, 200);
    assert.equal((await postAlert(r.url, falcoAlert(), { authorization: 'BEARER s3cret-token' })).status, 200);
    assert.equal((await postAlert(r.url, falcoAlert())).status, 401);
  } finally {
    await r.router.close({ drainMs: 0 });
  }
});

test('without authmetrics, /metrics stays open (Falcosidekick\'s behaviour)', async () => {
  const r = await startRouter('authtoken: s3cret-token\n');
  try {
    assert.equal((await fetch(`${r.url}/metrics`)).status, 200);
  } finally {
    await r.router.close({ drainMs: 0 });
  }
});

test('routes added to the input (POST /k8s-audit) are behind the token too', async () => {
  const { startRouterWith } = await import('../support/router.ts');
  const r = await startRouterWith('authtoken: s3cret-token\n', (router) => {
    router.addRoute('POST', '/k8s-audit', async () => ({ status: 200, body: { ok: true } }));
  });
  try {
    assert.equal((await fetch(`${r.url}/k8s-audit`, { method: 'POST', body: '[]' })).status, 401);
    const ok = await fetch(`${r.url}/k8s-audit`, { method: 'POST', body: '[]', headers: { authorization: 'Bearer s3cret-token' } });
    assert.equal(ok.status, 200);
  } finally {
    await r.router.close({ drainMs: 0 });
  }
});
