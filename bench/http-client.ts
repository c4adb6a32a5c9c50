// The outputs' HTTP client against undici, one request in flight (the webhook output's default):
//   node bench/http-client.ts [requests=5000] [rounds=4]
// The server is node:http in another process (its CPU is not counted); each round sends the same ~1 KB JSON
// body with every client in turn, after 500 unmeasured requests, and prints client CPU and wall time per request.
import { fork } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { HttpClient } from '../src/http-client/client.ts';

const N = Number(process.argv[2] ?? 5000);
const ROUNDS = Number(process.argv[3] ?? 4);
const server = join(mkdtempSync(join(tmpdir(), 'bench-http-client-')), 'server.mjs');
writeFileSync(server, `import { createServer } from 'node:http';
const s = createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 }); res.end('ok'); }); });
s.listen(0, '127.0.0.1', () => process.send(s.address().port));`);
const child = fork(server);
const port = await new Promise<number>((r) => child.once('message', (m) => r(m as number)));
const url = `http://127.0.0.1:${port}/hook`;
const body = JSON.stringify({ output: 'x'.repeat(700), priority: 'Warning', rule: 'Read sensitive file untrusted', time: new Date().toISOString(), output_fields: { 'fd.name': '/etc/shadow', 'proc.name': 'cat' } });
const headers = { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'Peregrine' };
const never = new AbortController().signal;

const own = new HttpClient({ checkcert: true });
const target = own.target(url, 'POST', headers);
const agent = new Agent();
// undici's dispatch() with a minimal handler: what the webhook output used before src/http-client/.
const dispatchOnce = () => new Promise<void>((resolve, reject) => {
  let status = 0;
  agent.dispatch({ origin: `http://127.0.0.1:${port}`, path: '/hook', method: 'POST', headers, body }, {
    onRequestStart() {},
    onResponseStart(_c, s) { status = s; },
    onResponseData() {},
    onResponseEnd() { if (status === 200) resolve(); else reject(new Error(`HTTP ${status}`)); },
    onResponseError(_c, err) { reject(err); },
  });
});

const clients: [string, () => Promise<unknown>][] = [
  ['src/http-client', () => target.send(body, never)],
  ['undici dispatch()', dispatchOnce],
  ['undici request()', async () => { const r = await request(url, { method: 'POST', headers, body, dispatcher: agent }); await r.body.dump(); }],
];
const rows: Record<string, string>[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  for (const [name, once] of clients) {
    for (let i = 0; i < 500; i++) await once();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await once();
    const cpu = process.cpuUsage(cpu0);
    rows.push({ round: String(round), client: name, 'CPU µs/request': ((cpu.user + cpu.system) / N).toFixed(1), 'wall µs/request': (((performance.now() - t0) * 1000) / N).toFixed(1) });
  }
}
console.table(rows);
child.kill();
await own.close();
await agent.close();
