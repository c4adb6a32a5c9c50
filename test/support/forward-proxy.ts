import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A name only the test proxy knows (it sends it to 127.0.0.1): a client must not resolve it itself. */
export const PROXY_ONLY_NAME = 'webhook.internal';

/** A forward proxy on loopback: absolute-form requests and CONNECT, sending every name to 127.0.0.1; optional Basic auth. */
export async function forwardProxy(requireAuth?: string) {
  const seen: { kind: 'request' | 'connect'; target: string; auth: string | undefined }[] = [];
  let connections = 0;
  const proxy = createHttpServer((req, res) => {
    seen.push({ kind: 'request', target: req.url!, auth: req.headers['proxy-authorization'] });
    const u = new URL(req.url!);
    const up = httpRequest({ host: '127.0.0.1', port: Number(u.port), path: u.pathname + u.search, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  proxy.on('connection', () => { connections++; });
  proxy.on('connect', (req, client: Socket) => {
    seen.push({ kind: 'connect', target: req.url!, auth: req.headers['proxy-authorization'] });
    if (requireAuth && req.headers['proxy-authorization'] !== requireAuth) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const up = connect(Number(req.url!.split(':').at(-1)), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.pipe(client);
      client.pipe(up);
    });
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  return { port: (proxy.address() as AddressInfo).port, seen, connections: () => connections, close: () => { proxy.closeAllConnections(); proxy.close(); } };
}

/** A self-signed certificate for `name`, and the PEM that trusts it. */
export function certFor(name: string) {
  const dir = mkdtempSync(join(tmpdir(), 'prg-proxy-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${name}`,
    '-addext', `subjectAltName=DNS:${name}`, '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'pipe' });
  return { cert: readFileSync(join(dir, 'c.pem'), 'utf8'), key: readFileSync(join(dir, 'k.pem'), 'utf8') };
}
