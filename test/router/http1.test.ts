import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyFraming, decodeChunked, keepsAlive, parseHead, type RequestHead } from '../../src/router/http/http1.ts';

const b = (s: string) => Buffer.from(s, 'latin1');

function head(text: string): RequestHead {
  const r = parseHead(b(text), 0, 16384);
  assert.equal(r.kind, 'head', JSON.stringify(r));
  return (r as { head: RequestHead }).head;
}

test('a request head: method, target, version, headers in lower case, where the body starts', () => {
  const text = 'POST /?x=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nX-A: 1\r\nx-a: 2\r\n\r\n{}';
  const h = head(text);
  assert.equal(h.method, 'POST');
  assert.equal(h.target, '/?x=1');
  assert.equal(h.minor, 1);
  assert.equal(h.headers['content-type'], 'application/json');
  assert.equal(h.headers['x-a'], '1, 2');
  assert.equal(h.bodyStart, text.length - 2);
});

test('a head is partial until its blank line arrives, and read from an offset (pipelined requests)', () => {
  assert.deepEqual(parseHead(b('POST / HTTP/1.1\r\nHost: a\r\n'), 0, 16384), { kind: 'partial' });
  const two = b('GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.0\r\n\r\n');
  const first = parseHead(two, 0, 16384);
  assert.equal(first.kind, 'head');
  const second = parseHead(two, (first as { head: RequestHead }).head.bodyStart, 16384);
  assert.equal(second.kind === 'head' && second.head.target, '/b');
  assert.equal(second.kind === 'head' && second.head.minor, 0);
});

test('malformed heads are refused with the status node:http gives', () => {
  const cases: [string, number][] = [
    ['POST / HTTP/2.0\r\n\r\n', 505],
    ['POST /\r\n\r\n', 400],
    ['PO ST / HTTP/1.1\r\n\r\n', 400],
    ['POST / HTTP/1.1\r\nno colon here\r\n\r\n', 400],
    ['POST / HTTP/1.1\r\nHost: a\r\n folded: value\r\n\r\n', 400],
    ['POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n', 400],
    ['POST / HTTP/1.1\r\ncontent-length: 2\r\n\r\n', 400],
  ];
  for (const [text, status] of cases) {
    const r = parseHead(b(text), 0, 16384);
    assert.equal(r.kind === 'error' && r.status, status, text);
  }
  const big = parseHead(b(`POST / HTTP/1.1\r\nx: ${'a'.repeat(100)}`), 0, 64);
  assert.equal(big.kind === 'error' && big.status, 431);
});

test('body framing: content-length, chunked, none; smuggling shapes and bodies over the limit are refused', () => {
  assert.deepEqual(bodyFraming(head('POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 12\r\n\r\n'), 100), { kind: 'length', length: 12 });
  assert.deepEqual(bodyFraming(head('POST / HTTP/1.1\r\nHost: a\r\n\r\n'), 100), { kind: 'length', length: 0 });
  assert.deepEqual(bodyFraming(head('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n'), 100), { kind: 'chunked' });
  const status = (text: string) => { const f = bodyFraming(head(text), 100); return f.kind === 'error' ? f.status : f.kind; };
  assert.equal(status('POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 101\r\n\r\n'), 413);
  assert.equal(status('POST / HTTP/1.1\r\nHost: a\r\ncontent-length: -1\r\n\r\n'), 400);
  assert.equal(status('POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 1e3\r\n\r\n'), 400);
  assert.equal(status('POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: chunked\r\ncontent-length: 5\r\n\r\n'), 400);
  assert.equal(status('POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: gzip, chunked\r\n\r\n'), 501);
});

test('chunked bodies: joined, with extensions and trailers; partial until the last chunk; over the limit 413', () => {
  const body = b('4;ext=1\r\n{"a"\r\n3\r\n:1}\r\n0\r\ntrailer: x\r\n\r\nNEXT');
  const r = decodeChunked(body, 0, 100);
  assert.equal(r.kind, 'body');
  assert.equal(r.kind === 'body' && r.body.toString(), '{"a":1}');
  assert.equal(r.kind === 'body' && body.subarray(r.end).toString(), 'NEXT');
  for (let cut = 1; cut < body.length - 4; cut++) assert.equal(decodeChunked(body.subarray(0, cut), 0, 100).kind, 'partial', `cut at ${cut}`);
  const over = decodeChunked(b('64\r\n'), 0, 10);
  assert.equal(over.kind === 'error' && over.status, 413);
  const bad = decodeChunked(b('zz\r\n'), 0, 10);
  assert.equal(bad.kind === 'error' && bad.status, 400);
  const noCrlf = decodeChunked(b('2\r\nabXY'), 0, 10);
  assert.equal(noCrlf.kind === 'error' && noCrlf.status, 400);
});

test('keep-alive: HTTP/1.1 unless "close", HTTP/1.0 only with "keep-alive"', () => {
  assert.equal(keepsAlive(head('POST / HTTP/1.1\r\nHost: a\r\n\r\n')), true);
  assert.equal(keepsAlive(head('POST / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n')), false);
  assert.equal(keepsAlive(head('POST / HTTP/1.0\r\n\r\n')), false);
  assert.equal(keepsAlive(head('POST / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n')), true);
});
