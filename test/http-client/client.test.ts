import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { HttpClient } from '../../src/http-client/client.ts';
import { keepAliveTimeoutMs, parseResponseHead, responseFraming } from '../../src/http-client/response-head.ts';
import { keepsAlive } from '../../src/router/http/http1.ts';
import { eventually } from '../support/eventually.ts';

const never = new AbortController().signal;

/** A real node:http server on loopback that answers `answer(req, body)` and counts its connections. */
async function httpServer(answer: (req: IncomingMessage, body: string, res: import('node:http').ServerResponse) => void) {
  const bodies: string[] = [];
  let connections = 0;
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => { const b = Buffer.concat(chunks).toString('utf8'); bodies.push(b); answer(req, b, res); });
  });
  server.on('connection', () => { connections++; });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/in?x=1`, bodies, connections: () => connections, close: () => { server.closeAllConnections(); server.close(); } };
}

/**
 * A raw TCP server for answers node:http would not give: `onRequest(socket, n)` is called for each complete
 * request (head + content-length body) with its number on that connection.
 */
async function rawServer(onRequest: (socket: Socket, nth: number, request: string) => void) {
  const sockets = new Set<Socket>();
  let requests = 0;
  const server: Server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = '';
    let nth = 0;
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        const request = buf.slice(0, end + 4 + len);
        buf = buf.slice(end + 4 + len);
        requests++;
        onRequest(socket, ++nth, request);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    requests: () => requests,
    open: () => sockets.size,
    close: () => { for (const s of sockets) s.destroy(); server.close(); },
  };
}

describe('outputs HTTP client', () => {
  test('keep-alive: sequential requests share one connection; the body goes as UTF-8 with its byte length', async () => {
    const srv = await httpServer((req, _b, res) => { res.setHeader('x-path', req.url!); res.end('fine'); });
    const client = new HttpClient({ checkcert: true });
    try {
      const t = client.target(srv.url, 'POST', { 'content-type': 'application/json', 'X-Team': 'sec' });
      for (const text of ['{"a":"ünïcödé ✓"}', '{"b":2}', '{"c":3}']) {
        const res = await t.send(text, never);
        assert.equal(res.status, 200);
        assert.equal(res.headers['x-path'], '/in?x=1');
        assert.equal(res.body.toString(), 'fine');
      }
      assert.deepEqual(srv.bodies, ['{"a":"ünïcödé ✓"}', '{"b":2}', '{"c":3}']);
      assert.equal(srv.connections(), 1);
    } finally {
      await client.close();
      srv.close();
    }
  });

  test('requests in flight at once each get a connection, which later requests reuse', async () => {
    const srv = await httpServer((_r, _b, res) => setTimeout(() => res.end('ok'), 30));
    const client = new HttpClient({ checkcert: true });
    try {
      const t = client.target(srv.url, 'POST', {});
      await Promise.all([1, 2, 3, 4].map((i) => t.send(String(i), never)));
      assert.equal(srv.connections(), 4);
      await Promise.all([5, 6, 7, 8].map((i) => t.send(String(i), never)));
      assert.equal(srv.connections(), 4);
      assert.deepEqual([...srv.bodies].sort(), ['1', '2', '3', '4', '5', '6', '7', '8']);
    } finally {
      await client.close();
      srv.close();
    }
  });

  test('a chunked answer is decoded and the connection reused; Connection: close makes the next request open another', async () => {
    let n = 0;
    const srv = await httpServer((_r, _b, res) => {
      n++;
      if (n === 2) res.setHeader('connection', 'close');
      res.write('part one, ');
      res.end('part two');
    });
    const client = new HttpClient({ checkcert: true });
    try {
      const t = client.target(srv.url, 'PUT', {});
      for (let i = 0; i < 3; i++) assert.equal((await t.send('{}', never)).body.toString(), 'part one, part two');
      assert.equal(srv.connections(), 2);
    } finally {
      await client.close();
      srv.close();
    }
  });

  test('interim 1xx answers are skipped; an HTTP/1.0 body without a length ends at the close', async () => {
    const srv = await rawServer((socket, nth) => {
      if (nth === 1) socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok');
      else socket.end('HTTP/1.0 500 Oops\r\n\r\nthe body runs until the close');
    });
    const client = new HttpClient({ checkcert: true });
    try {
      const t = client.target(srv.url, 'POST', {});
      assert.equal((await t.send('{}', never)).status, 201);
      const second = await t.send('{}', never);
      assert.equal(second.status, 500);
      assert.equal(second.body.toString(), 'the body runs until the close');
    } finally {
      await client.close();
      srv.close();
    }
  });

  test('a reused connection the server dropped without answering: the request goes once more on a new connection', async () => {
    const srv = await rawServer((socket, nth) => {
      // The second request on any connection is cut as a server closing an idle connection would.
      if (nth === 2) return void socket.destroy();
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
    });
    const client = new HttpClient({ checkcert: true });
    try {
      const t = client.target(srv.url, 'POST', {});
      assert.equal((await t.send('1', never)).status, 200);
      assert.equal((await t.send('2', never)).status, 200);
      assert.equal(srv.requests(), 3, 'request 2 reached the server twice: cut on the old connection, answered on the new one');
    } finally {
      await client.close();
      srv.close();
    }
  });

  test('a new connection cut before an answer is not sent again: the error reaches the caller', async () => {
    const srv = await rawServer((socket) => socket.destroy());
    const client = new HttpClient({ checkcert: true });
    try {
      await assert.rejects(client.target(srv.url, 'POST', {}).send('1', never), /closed|reset|hang up|EPIPE/i);
      assert.equal(srv.requests(), 1);
    } finally {
      await client.close();
      srv.close();
    }
  });

  test('idle connections are closed after idleMs, and at once when the server\'s Keep-Alive timeout leaves no time', async () => {
    const srv = await rawServer((socket, nth) => {
      socket.write(nth === 1 && srv.requests() === 1
        ? 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'
        : 'HTTP/1.1 200 OK\r\nkeep-alive: timeout=1\r\ncontent-length: 0\r\n\r\n');
    });
    const client = new HttpClient({ checkcert: true, idleMs: 150 });
    try {
      const t = client.target(srv.url, 'POST', {});
      await t.send('1', never);
      assert.equal(srv.open(), 1);
      await eventually(() => assert.equal(srv.open(), 0), 3000);
      await t.send('2', never);
      await eventually(() => assert.equal(srv.open(), 0), 1000);
    } finally {
      await client.close();
      srv.close();
    }
  });

  test('a body over 1 MiB is not buffered: the status stands and the connection is closed instead of read on', async () => {
    let conns = 0;
    const srv = await rawServer((socket, nth) => {
      if (nth === 1) conns++;
      // Announced as 50 MiB (only 2 MiB of it sent), then one until the close that never ends.
      if (srv.requests() === 1) socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${50 * 1024 * 1024}\r\n\r\n`);
      else socket.write('HTTP/1.0 502 Bad Gateway\r\n\r\n');
      socket.write(Buffer.alloc(2 * 1024 * 1024, 120));
    });
    const client = new HttpClient({ checkcert: true });
    try {
      const t = client.target(srv.url, 'POST', {});
      const first = await t.send('1', never);
      assert.equal(first.status, 200);
      const second = await t.send('2', never);
      assert.equal(second.status, 502);
      assert.equal(second.body.toString(), 'x'.repeat(200));
      assert.equal(conns, 2, 'the first connection was not reused');
    } finally {
      await client.close();
      srv.close();
    }
  });

  test('bytes past the answer: the connection is not trusted again', async () => {
    let conns = 0;
    const srv = await rawServer((socket, nth) => {
      if (nth === 1) conns++;
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
    });
    const client = new HttpClient({ checkcert: true });
    try {
      const t = client.target(srv.url, 'POST', {});
      assert.equal((await t.send('1', never)).status, 200);
      assert.equal((await t.send('2', never)).status, 200);
      assert.equal(conns, 2);
    } finally {
      await client.close();
      srv.close();
    }
  });

  test('an abort ends the request with its reason and drops the connection; close() ends the rest', async () => {
    const srv = await rawServer(() => { /* never answers */ });
    const client = new HttpClient({ checkcert: true });
    try {
      const t = client.target(srv.url, 'POST', {});
      const ctl = new AbortController();
      const sent = t.send('1', ctl.signal);
      await eventually(() => assert.equal(srv.requests(), 1), 2000);
      ctl.abort(new Error('send timed out'));
      await assert.rejects(sent, /send timed out/);
      await eventually(() => assert.equal(srv.open(), 0), 2000);
      await assert.rejects(t.send('2', AbortSignal.abort(new Error('shutting down'))), /shutting down/);
      const pending = t.send('3', never);
      await eventually(() => assert.equal(srv.requests(), 2), 2000);
      await client.close();
      await assert.rejects(pending);
      await assert.rejects(client.target(srv.url, 'POST', {}).send('4', never), /client is closed/);
    } finally {
      await client.close();
      srv.close();
    }
  });

  test('a malformed status line or content-length is an error naming it', async () => {
    const srv = await rawServer((socket, _n) => socket.write(srv.requests() === 1 ? 'HTTP/2 200\r\n\r\n' : 'HTTP/1.1 200 OK\r\ncontent-length: 1, 2\r\n\r\nx'));
    const client = new HttpClient({ checkcert: true });
    try {
      const t = client.target(srv.url, 'POST', {});
      await assert.rejects(t.send('1', never), /malformed status line "HTTP\/2 200"/);
      await assert.rejects(t.send('2', never), /invalid content-length "1, 2"/);
    } finally {
      await client.close();
      srv.close();
    }
  });

  test('credentials in the URL go as Basic auth, as Go\'s client sends them for Falcosidekick; a header of the caller wins', async () => {
    const seen: (string | undefined)[] = [];
    const srv = await httpServer((req, _b, res) => { seen.push(req.headers.authorization); res.end(); });
    const client = new HttpClient({ checkcert: true });
    try {
      const withUser = srv.url.replace('http://', 'http://alice:s%3Acret@');
      await client.target(withUser, 'POST', {}).send('{}', never);
      await client.target(withUser, 'POST', { Authorization: 'Bearer t0ken' }).send('{}', never);
      await client.target(srv.url, 'POST', {}).send('{}', never);
      assert.deepEqual(seen, [`Basic ${Buffer.from('alice:s:cret').toString('base64')}`, 'Bearer t0ken', undefined]);
    } finally {
      await client.close();
      srv.close();
    }
  });

  test('headers: a line break in a value or a bad name is refused when the target is made; framing headers are ours', async () => {
    const client = new HttpClient({ checkcert: true });
    assert.throws(() => client.target('http://127.0.0.1:1/', 'POST', { 'x-a': 'one\r\nx-injected: 1' }), /header "x-a" has a line break/);
    assert.throws(() => client.target('http://127.0.0.1:1/', 'POST', { 'bad name': 'v' }), /header name "bad name"/);
    assert.throws(() => client.target('ftp://127.0.0.1/', 'POST', {}), /not an http\(s\) URL/);
    const seen: string[] = [];
    const srv = await httpServer((req, _b, res) => { seen.push(`${req.headers['content-length']} ${req.headers['transfer-encoding']} ${req.headers['content-type']}`); res.end(); });
    try {
      const t = client.target(srv.url, 'POST', { 'Content-Length': '999', 'transfer-encoding': 'chunked', 'content-type': 'a/b', 'Content-Type': 'c/d' });
      assert.equal((await t.send('four', never)).status, 200);
      assert.deepEqual(seen, ['4 undefined c/d']);
    } finally {
      await client.close();
      srv.close();
    }
  });
});

describe('response framing', () => {
  const head = (text: string) => {
    const r = parseResponseHead(Buffer.from(text), 0, 1024);
    assert.equal(r.kind, 'head');
    return (r as Extract<typeof r, { kind: 'head' }>).head;
  };
  test('status, headers joined when repeated, where the body starts', () => {
    const h = head('HTTP/1.1 429 Too Many\r\nRetry-After: 2\r\nX-A: 1\r\nx-a: 2\r\n\r\nbody');
    assert.equal(h.status, 429);
    assert.equal(h.headers['retry-after'], '2');
    assert.equal(h.headers['x-a'], '1, 2');
    assert.equal(h.bodyStart, 'HTTP/1.1 429 Too Many\r\nRetry-After: 2\r\nX-A: 1\r\nx-a: 2\r\n\r\n'.length);
    assert.equal(parseResponseHead(Buffer.from('HTTP/1.1 200 OK\r\n'), 0, 1024).kind, 'partial');
    assert.equal(parseResponseHead(Buffer.from('HTTP/1.1 200 OK\r\n' + 'x'.repeat(2000)), 0, 1024).kind, 'error');
  });
  test('framing by method and status, length, chunked, until close', () => {
    assert.deepEqual(responseFraming(head('HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n'), 'POST'), { kind: 'none' });
    assert.deepEqual(responseFraming(head('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n'), 'HEAD'), { kind: 'none' });
    assert.deepEqual(responseFraming(head('HTTP/1.1 200 OK\r\ncontent-length: 5, 5\r\n\r\n'), 'POST'), { kind: 'length', length: 5 });
    assert.deepEqual(responseFraming(head('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n'), 'POST'), { kind: 'chunked' });
    assert.deepEqual(responseFraming(head('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n'), 'POST'), { kind: 'until-close' });
    assert.deepEqual(responseFraming(head('HTTP/1.0 200 OK\r\n\r\n'), 'POST'), { kind: 'until-close' });
  });
  test('keep-alive by version and Connection; the server\'s Keep-Alive timeout', () => {
    assert.equal(keepsAlive(head('HTTP/1.1 200 OK\r\n\r\n')), true);
    assert.equal(keepsAlive(head('HTTP/1.1 200 OK\r\nConnection: Close\r\n\r\n')), false);
    assert.equal(keepsAlive(head('HTTP/1.0 200 OK\r\n\r\n')), false);
    assert.equal(keepsAlive(head('HTTP/1.0 200 OK\r\nconnection: keep-alive\r\n\r\n')), true);
    assert.equal(keepAliveTimeoutMs(head('HTTP/1.1 200 OK\r\nkeep-alive: max=5, timeout=3\r\n\r\n')), 3000);
    assert.equal(keepAliveTimeoutMs(head('HTTP/1.1 200 OK\r\n\r\n')), undefined);
  });
});
