/**
 * The router benchmark's load generator, run in a worker thread so its event loop competes with
 * neither the receiver's nor the router's. Posts Falco JSON alerts over keep-alive connections, each
 * carrying its sequence number and send time in output_fields, paced (alerts per second) or flat out,
 * for a fixed time. Replies with which sequence numbers got a 200 (acknowledged = must be delivered).
 *
 * By default it posts with the outputs' lean HTTP/1.1 client (src/http-client/, ~30-40 µs of CPU per
 * request), closer to Falco's own sender (libcurl, C) than undici's Pool.request (~100 µs): on 2 cores the
 * generator's CPU is taken from the program under test. `client: 'undici'` is the generator as it was
 * before December 2026, to compare with older figures.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Pool } from 'undici';
import { HttpClient } from '../../src/http-client/client.ts';

export interface LoadSpec {
  url: string;
  seconds: number;
  /** Alerts per second; 0 = flat out. */
  rate: number;
  connections: number;
  /** Upper bound on alerts (sizes the acknowledgement bitmap). */
  maxAlerts: number;
  /** Which HTTP client posts: the lean one (default) or undici's Pool. */
  client?: 'lean' | 'undici';
}

export interface LoadResult {
  sent: number;
  /** 1 at index seq when the router answered 200. */
  acked: Uint8Array;
  ackedCount: number;
  /** When each acknowledgement came back (ms, performance.timeOrigin-based, as sent_at); 0 = none. */
  ackedAt: Float64Array;
  /** Non-200 answers by status, and transport errors. */
  refused: Record<string, number>;
  elapsedMs: number;
}

const now = () => performance.timeOrigin + performance.now();

function alertBody(seq: number): string {
  return JSON.stringify({
    output: '10:20:05.408091526: Warning Sensitive file opened for reading by non-trusted program (file=/etc/shadow)',
    priority: 'Warning', rule: 'Read sensitive file untrusted', time: new Date().toISOString(), source: 'syscall',
    hostname: 'bench', tags: ['filesystem', 'mitre_credential_access'],
    output_fields: { 'fd.name': '/etc/shadow', 'proc.name': 'cat', 'proc.cmdline': 'cat /etc/shadow', 'user.name': 'root', seq, sent_at: now() },
  });
}

/** Posts one body; resolves with the answer's status. */
type Post = (body: string) => Promise<number>;

function poster(spec: LoadSpec): { post: Post; close: () => Promise<void> } {
  if (spec.client === 'undici') {
    const pool = new Pool(spec.url, { connections: spec.connections, pipelining: 1, keepAliveTimeout: 60000 });
    return {
      post: async (body) => {
        const r = await pool.request({ path: '/', method: 'POST', body, headers: { 'content-type': 'application/json' } });
        await r.body.dump();
        return r.statusCode;
      },
      close: () => pool.close(),
    };
  }
  // One connection per client loop (as many as spec.connections), kept alive for the whole run.
  const client = new HttpClient({ checkcert: true, idleMs: 60000 });
  const target = client.target(`${spec.url}/`, 'POST', { 'content-type': 'application/json' });
  const never = new AbortController().signal;
  return { post: async (body) => (await target.send(body, never, 0)).status, close: () => client.close() };
}

async function run(spec: LoadSpec): Promise<LoadResult> {
  const { post, close } = poster(spec);
  const acked = new Uint8Array(spec.maxAlerts);
  const ackedAt = new Float64Array(spec.maxAlerts);
  const refused: Record<string, number> = {};
  let next = 0;
  let ackedCount = 0;
  const start = now();
  const end = start + spec.seconds * 1000;
  let sent = 0;
  async function client() {
    for (;;) {
      const seq = next++;
      if (seq >= spec.maxAlerts) return;
      if (spec.rate > 0) {
        const due = start + (seq * 1000) / spec.rate;
        if (due >= end) return;
        if (due > now()) await new Promise((r) => setTimeout(r, Math.max(0, due - now())));
      } else if (now() >= end) return;
      sent++;
      try {
        const status = await post(alertBody(seq));
        ackedAt[seq] = now();
        if (status === 200) { acked[seq] = 1; ackedCount++; } else refused[status] = (refused[status] ?? 0) + 1;
      } catch (err) {
        const e = err as { code?: string; cause?: { code?: string } };
        const code = e.code ?? e.cause?.code ?? 'error';
        refused[code] = (refused[code] ?? 0) + 1;
      }
    }
  }
  await Promise.all(Array.from({ length: spec.connections }, client));
  const elapsedMs = now() - start;
  await close();
  return { sent, acked, ackedCount, ackedAt, refused, elapsedMs };
}

if (parentPort) {
  const result = await run(workerData as LoadSpec);
  parentPort.postMessage(result, [result.acked.buffer as ArrayBuffer, result.ackedAt.buffer as ArrayBuffer]);
}
