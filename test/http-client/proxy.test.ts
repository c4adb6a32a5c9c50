import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { HttpClient } from '../../src/http-client/client.ts';
import { proxyFromEnv } from '../../src/http-client/proxy.ts';
import { certFor, forwardProxy, PROXY_ONLY_NAME as NAME } from '../support/forward-proxy.ts';

const never = new AbortController().signal;

describe('proxy from the environment, as Go reads it', () => {
  const at = (url: string, env: Record<string, string>) => proxyFromEnv(new URL(url), env)?.href;
  test('HTTPS_PROXY for https, HTTP_PROXY for http, upper case first; no scheme means http://', () => {
    const env = { HTTPS_PROXY: 'http://a:3128', https_proxy: 'http://b:3128', http_proxy: 'c:8080' };
    assert.equal(at('https://hooks.example.com/x', env), 'http://a:3128/');
    assert.equal(at('http://hooks.example.com/x', env), 'http://c:8080/');
    assert.equal(at('http://hooks.example.com/x', {}), undefined);
  });
  test('localhost and loopback addresses never go through a proxy', () => {
    const env = { HTTP_PROXY: 'http://p:1' };
    for (const u of ['http://localhost:80/', 'http://127.0.0.1/', 'http://127.9.9.9/', 'http://[::1]/']) assert.equal(at(u, env), undefined, u);
    assert.equal(at('http://10.0.0.1/', env), 'http://p:1/');
  });
  test('NO_PROXY: *, names with their subdomains, .names for subdomains only, IPs, CIDRs, ports', () => {
    const env = (no: string) => ({ HTTP_PROXY: 'http://p:1', NO_PROXY: no });
    assert.equal(at('http://a.example.com/', env('*')), undefined);
    assert.equal(at('http://example.com/', env('example.com')), undefined);
    assert.equal(at('http://a.example.com/', env(' other.org, Example.COM ')), undefined);
    assert.equal(at('http://example.com/', env('.example.com')), 'http://p:1/');
    assert.equal(at('http://a.example.com/', env('.example.com')), undefined);
    assert.equal(at('http://a.example.com/', env('*.example.com')), undefined);
    assert.equal(at('http://example.com/', env('*.example.com')), 'http://p:1/');
    assert.equal(at('http://notexample.com/', env('example.com')), 'http://p:1/');
    assert.equal(at('http://10.1.2.3/', env('10.0.0.0/8')), undefined);
    assert.equal(at('http://11.1.2.3/', env('10.0.0.0/8')), 'http://p:1/');
    assert.equal(at('http://10.1.2.3/', env('10.1.2.3')), undefined);
    assert.equal(at('http://example.com:8080/', env('example.com:8080')), undefined);
    assert.equal(at('http://example.com:9090/', env('example.com:8080')), 'http://p:1/');
    assert.equal(at('http://example.com/', { HTTP_PROXY: 'http://p:1', no_proxy: 'example.com' }), undefined);
  });
  test('a proxy this client cannot use is an error naming the variable', () => {
    assert.throws(() => proxyFromEnv(new URL('https://x.example/'), { HTTPS_PROXY: 'socks5://p:1080' }), /HTTPS_PROXY: only http:\/\/ proxies are supported, not socks5:\/\//);
  });
});

describe('requests through a forward proxy', () => {
  test('plain HTTP goes to the proxy naming the whole URL, with Proxy-Authorization, over a kept connection', async () => {
    const bodies: string[] = [];
    const target = createHttpServer((req, res) => { let b = ''; req.on('data', (c) => { b += c; }); req.on('end', () => { bodies.push(`${req.url} ${b}`); res.end('ok'); }); });
    target.listen(0, '127.0.0.1');
    await once(target, 'listening');
    const port = (target.address() as AddressInfo).port;
    const proxy = await forwardProxy();
    const client = new HttpClient({ checkcert: true, env: { HTTP_PROXY: `http://bob:pw@127.0.0.1:${proxy.port}` } });
    try {
      const t = client.target(`http://${NAME}:${port}/hook?x=1`, 'POST', {});
      for (const b of ['one', 'two']) assert.equal((await t.send(b, never)).status, 200);
      assert.deepEqual(bodies, ['/hook?x=1 one', '/hook?x=1 two']);
      assert.deepEqual(proxy.seen.map((s) => `${s.kind} ${s.target} ${s.auth}`), [
        `request http://${NAME}:${port}/hook?x=1 Basic ${Buffer.from('bob:pw').toString('base64')}`,
        `request http://${NAME}:${port}/hook?x=1 Basic ${Buffer.from('bob:pw').toString('base64')}`,
      ]);
      assert.equal(proxy.connections(), 1);
    } finally {
      await client.close();
      proxy.close();
      target.closeAllConnections();
      target.close();
    }
  });

  test('HTTPS goes through a CONNECT tunnel, TLS checked against the target\'s name; a refused CONNECT names the proxy, not its password', async () => {
    const { cert, key } = certFor(NAME);
    const bodies: string[] = [];
    const target = createHttpsServer({ cert, key }, (req, res) => { let b = ''; req.on('data', (c) => { b += c; }); req.on('end', () => { bodies.push(b); res.end('ok'); }); });
    target.listen(0, '127.0.0.1');
    await once(target, 'listening');
    const port = (target.address() as AddressInfo).port;
    const auth = `Basic ${Buffer.from('bob:s3cret').toString('base64')}`;
    const proxy = await forwardProxy(auth);
    const good = new HttpClient({ checkcert: true, caPem: cert, env: { HTTPS_PROXY: `http://bob:s3cret@127.0.0.1:${proxy.port}` } });
    const wrong = new HttpClient({ checkcert: true, caPem: cert, env: { HTTPS_PROXY: `http://bob:nope@127.0.0.1:${proxy.port}` } });
    try {
      const t = good.target(`https://${NAME}:${port}/hook`, 'POST', {});
      for (const b of ['one', 'two']) assert.equal((await t.send(b, never)).status, 200);
      assert.deepEqual(bodies, ['one', 'two']);
      assert.deepEqual(proxy.seen, [{ kind: 'connect', target: `${NAME}:${port}`, auth }], 'one tunnel, kept for both requests');
      await assert.rejects(wrong.target(`https://${NAME}:${port}/hook`, 'POST', {}).send('three', never), (err: Error) =>
        new RegExp(`^proxy http://127\\.0\\.0\\.1:${proxy.port} refused CONNECT ${NAME}:${port}: HTTP 407$`).test(err.message) && !err.message.includes('nope'));
    } finally {
      await good.close();
      await wrong.close();
      proxy.close();
      target.closeAllConnections();
      target.close();
    }
  });

  test('a loopback target goes direct even with a proxy set', async () => {
    const target = createHttpServer((_req, res) => res.end('ok'));
    target.listen(0, '127.0.0.1');
    await once(target, 'listening');
    const proxy = await forwardProxy();
    const client = new HttpClient({ checkcert: true, env: { HTTP_PROXY: `http://127.0.0.1:${proxy.port}` } });
    try {
      assert.equal((await client.target(`http://127.0.0.1:${(target.address() as AddressInfo).port}/`, 'POST', {}).send('x', never)).status, 200);
      assert.equal(proxy.seen.length, 0);
    } finally {
      await client.close();
      proxy.close();
      target.closeAllConnections();
      target.close();
    }
  });
});
