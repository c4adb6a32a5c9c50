// HTTP ingest benchmark: `node bench/http-ingest.ts --baseline DIR [alerts=20000] [connections=32] [rounds=3]`.
// Compares this tree's `peregrine route` with another checkout's (DIR, e.g. the commit before a change to the
// HTTP surface: `git worktree add --detach /tmp/prg-base <commit> && ln -s $PWD/node_modules /tmp/prg-base/`).
// No output is configured, so the router only validates, enriches and counts: the figure is the HTTP surface's
// cost. Rounds alternate baseline and current so machine noise hits both; the median of each is compared.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Pool } from 'undici';
import { median } from './support/median.ts';

const args = process.argv.slice(2);
const bi = args.indexOf('--baseline');
if (bi < 0 || !args[bi + 1]) throw new Error('usage: node bench/http-ingest.ts --baseline DIR [alerts] [connections] [rounds]');
const baseline = resolve(args[bi + 1]!);
const numeric = args.filter((a, i) => i !== bi && i !== bi + 1);
const TOTAL = Number(numeric[0] ?? 20000);
const CONCURRENCY = Number(numeric[1] ?? 32);
const ROUNDS = Number(numeric[2] ?? 3);

/** dir: the router's config and spool, removed once it has stopped. */
async function start(tree: string, port: number): Promise<{ child: ChildProcess; pool: Pool; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'prg-ingest-'));
  const cfg = join(dir, 'config.yaml');
  writeFileSync(cfg, `listenaddress: 127.0.0.1\nlistenport: ${port}\nloglevel: error\n`);
  const child = spawn(process.execPath, [join(tree, 'bin/peregrine'), 'route', '-c', cfg], { cwd: tree, stdio: ['ignore', 'ignore', 'inherit'] });
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY, pipelining: 1 });
  for (let i = 0; i < 100; i++) {
    try { await pool.request({ path: '/healthz', method: 'GET' }).then((r) => r.body.dump()); return { child, pool, dir }; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  throw new Error(`router in ${tree} did not start`);
}

async function post(pool: Pool, n: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < n) {
      next++;
      const body = JSON.stringify({
        output: 'Warning Sensitive file opened for reading by non-trusted program', priority: 'Warning',
        rule: 'Read sensitive file untrusted', time: new Date().toISOString(), source: 'syscall', hostname: 'bench',
        tags: ['filesystem'], output_fields: { 'fd.name': '/etc/shadow', 'proc.name': 'cat', 'proc.pid': 4242 },
      });
      const r = await pool.request({ path: '/', method: 'POST', body, headers: { 'content-type': 'application/json' } });
      await r.body.dump();
      if (r.statusCode !== 200) throw new Error(`router answered ${r.statusCode}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return n / ((performance.now() - t0) / 1000);
}

async function measure(tree: string, port: number): Promise<number> {
  const { child, pool, dir } = await start(tree, port);
  try {
    await post(pool, Math.min(5000, TOTAL)); // warm-up: JIT and connections
    return await post(pool, TOTAL);
  } finally {
    await pool.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Record<'baseline' | 'current', number[]> = { baseline: [], current: [] };
for (let round = 0; round < ROUNDS; round++) {
  results.baseline.push(await measure(baseline, 28100 + round * 2));
  results.current.push(await measure(process.cwd(), 28101 + round * 2));
}
console.log(`HTTP ingest: ${TOTAL} alerts per round, ${CONCURRENCY} connections, ${ROUNDS} alternating rounds, node ${process.version}`);
console.table({
  baseline: { tree: baseline, 'accepted/s per round': results.baseline.map(Math.round).join(' '), 'median/s': Math.round(median(results.baseline)) },
  current: { tree: process.cwd(), 'accepted/s per round': results.current.map(Math.round).join(' '), 'median/s': Math.round(median(results.current)) },
});
console.log(`current / baseline = ${(median(results.current) / median(results.baseline)).toFixed(3)}`);
