import { connect, type Socket } from 'node:net';
import { parseResponseHead } from './response-head.ts';
import { basicAuth } from './proxy.ts';

/**
 * Opens a CONNECT tunnel through an http:// proxy to `authority` (host:port) and resolves with the socket,
 * ready for TLS to the target. A refusal names the proxy (without its credentials) and its status.
 */
export function connectTunnel(proxy: URL, authority: string, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // The origin never carries the proxy's credentials.
    const where = `proxy ${proxy.protocol}//${proxy.host}`;
    const socket = connect({ host: proxy.hostname.replace(/^\[|\]$/g, ''), port: Number(proxy.port) || 80 });
    socket.setNoDelay(true);
    let buf = Buffer.alloc(0);
    const done = (err?: Error) => {
      signal.removeEventListener('abort', onAbort);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (err) {
        socket.destroy();
        reject(err);
      } else resolve(socket);
    };
    const onAbort = () => done(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
    const onError = (err: Error) => done(new Error(`${where}: ${err.message}`, { cause: err }));
    const onClose = () => done(new Error(`${where} closed the connection before answering CONNECT`));
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const h = parseResponseHead(buf, 0, 16 * 1024);
      if (h.kind === 'partial') return;
      if (h.kind === 'error') return done(new Error(`${where}: ${h.error}`));
      if (h.head.status < 200 || h.head.status > 299) return done(new Error(`${where} refused CONNECT ${authority}: HTTP ${h.head.status}`));
      // Nothing may follow the proxy's answer before the TLS handshake starts.
      if (buf.length > h.head.bodyStart) return done(new Error(`${where} sent bytes after its CONNECT answer`));
      done();
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    const auth = basicAuth(proxy);
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nhost: ${authority}\r\n${auth ? `proxy-authorization: ${auth}\r\n` : ''}\r\n`);
  });
}
