// The spool alone: appends/s and append latency (p50/p99) for each spool.fsync policy, with 1 appender
// (one request in flight, as Falco's http_output) and with many (concurrent clients share group commits),
// then a reader draining the same records from disk. Run: node bench/spool.ts [seconds=3] [bytes=900]
// The spool is written under .tmp/ in the repository (a real disk; /tmp may be tmpfs, where fsync is free).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSpool } from '../src/spool/registry.ts';
import type { FsyncPolicy } from '../src/spool/contract.ts';

const seconds = Number(process.argv[2] ?? 3);
const bytes = Number(process.argv[3] ?? 900);
const root = fileURLToPath(new URL('../.tmp/', import.meta.url));
mkdirSync(root, { recursive: true });
const payload = Buffer.from(JSON.stringify({ a: { rule: 'Read sensitive file untrusted', output: 'x'.repeat(Math.max(0, bytes - 60)) }, t: Date.now() }));

interface Row { policy: FsyncPolicy; appenders: number; perSecond: number; p50: number; p99: number; readPerSecond: number }

async function run(policy: FsyncPolicy, appenders: number): Promise<Row> {
  const dir = mkdtempSync(join(root, 'bench-spool-'));
  const spool = await openSpool('file', { dir, fsync: policy, fsyncMs: 5, maxBytes: 8 * 1024 ** 3, whenFull: 'reject', consumers: ['out'] });
  const latencies: number[] = [];
  let count = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: appenders }, async () => {
    while (performance.now() < end) {
      const t = performance.now();
      await spool.append(payload);
      latencies.push(performance.now() - t);
      count++;
    }
  }));
  const perSecond = count / seconds;
  // Read everything back: past the memory window this is from the segment files.
  const reader = spool.reader('out');
  const t0 = performance.now();
  let read = 0;
  while (read < count) {
    const got = await reader.next(1000);
    read += got.length;
    reader.ack(got.at(-1)!.seq + 1);
  }
  const readPerSecond = read / ((performance.now() - t0) / 1000);
  await spool.close();
  rmSync(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { policy, appenders, perSecond, p50: q(0.5), p99: q(0.99), readPerSecond };
}

const rows: Row[] = [];
for (const appenders of [1, 64]) {
  for (const policy of ['interval', 'always', 'never'] as const) rows.push(await run(policy, appenders));
}
console.log(`spool appends, ${payload.length}-byte records, ${seconds} s each, on ${root}`);
console.log('| fsync | appenders | appends/s | append p50 ms | append p99 ms | read back/s |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.policy} | ${r.appenders} | ${Math.round(r.perSecond).toLocaleString('en')} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${Math.round(r.readPerSecond).toLocaleString('en')} |`);
}
