// The web UI's alert store and API: ingest rate, API latency with a million stored alerts, bytes per
// alert, and the size bound. Run by hand: node bench/ui-store.ts [alerts=1000000] [requests=40]
// API latency is measured over HTTP from this process (client and server share it), with each request's
// server CPU time beside it, since on a loaded machine the wall clock mostly measures waiting for a core.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.ts';
import { createRouter } from '../src/router/router.ts';
import type { AlertStore } from '../src/ui/store/contract.ts';
import { openSqliteStore } from '../src/ui/store/sqlite-store.ts';
import { SEED_HOSTS, SEED_RULES, seedAlerts } from '../test/support/seed-alerts.ts';

const TOTAL = Number(process.argv[2] ?? 1_000_000);
const REQUESTS = Number(process.argv[3] ?? 40);
const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'peregrine-bench-ui-'));

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/**
 * Inserts `count` alerts spread over [from, to) in batches. Returns alerts/s of the insert calls alone, by
 * the wall clock and by this process's CPU time (the honest figure on a machine shared with other work).
 */
function ingest(store: AlertStore, count: number, from: number, to: number, batch: number, onBatch?: () => void): { wall: number; cpu: number } {
  const chunk = 50_000;
  let busy = 0;
  let cpu = 0;
  for (let done = 0; done < count; done += chunk) {
    const n = Math.min(chunk, count - done);
    const span = (to - from) / count;
    const alerts = seedAlerts(n, from + done * span, from + (done + n) * span, 1 + done);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < alerts.length; i += batch) {
      store.insert(alerts.slice(i, i + batch));
      onBatch?.();
    }
    const c = process.cpuUsage(c0);
    cpu += (c.user + c.system) / 1e6;
    busy += performance.now() - t0;
  }
  return { wall: count / (busy / 1000), cpu: count / cpu };
}

const rate = (r: { wall: number; cpu: number }) =>
  `${Math.round(r.cpu).toLocaleString('en-US')} alerts per CPU-second (wall clock ${Math.round(r.wall).toLocaleString('en-US')}/s)`;

const rows: string[][] = [];
const now = Date.now();

// 1. Ingest rate, with the batch sizes the delivery layer hands over (up to maxBatch = 1000 under load).
for (const batch of [1000, 100, 10]) {
  const file = join(dir, `ingest-${batch}.sqlite`);
  const store = openSqliteStore({ file, retentionMs: 0, maxBytes: 0 });
  const r = ingest(store, 100_000, now - DAY, now, batch);
  store.close();
  rows.push([`ingest, batches of ${batch}`, rate(r), '≥ 20,000 alerts/s']);
}

// 2. A million alerts over 7 days; bytes per alert.
const bigFile = join(dir, 'big.sqlite');
{
  const store = openSqliteStore({ file: bigFile, retentionMs: 0, maxBytes: 0 });
  const r = ingest(store, TOTAL, now - 7 * DAY, now, 1000);
  const bytes = store.sizeBytes();
  store.close();
  // Closing checkpoints the WAL into the file and truncates it: what the alerts themselves take.
  const fileBytes = statSync(bigFile).size;
  rows.push([`ingest of ${TOTAL.toLocaleString('en-US')} alerts, batches of 1000`, rate(r), '≥ 20,000 alerts/s']);
  rows.push(['bytes per stored alert (file and WAL / alerts)', `${Math.round(bytes / TOTAL)} B (${(bytes / 2 ** 20).toFixed(0)} MiB in all)`, 'reported']);
  rows.push(['bytes per stored alert after close (file / alerts)', `${Math.round(fileBytes / TOTAL)} B (${(fileBytes / 2 ** 20).toFixed(0)} MiB in all)`, 'reported']);
}

// 3. API latency over HTTP against that store (the router's port, as the UI calls it).
{
  const config = loadConfig({ env: {}, yamlText: `listenaddress: 127.0.0.1\nlistenport: 0\nui:\n  dbfile: ${bigFile}\n  retention: "0"\n  maxbytes: 0\n` });
  const router = await createRouter(config);
  const { port } = await router.listen();
  const base = `http://127.0.0.1:${port}/api/v1`;
  const ranges = [`from=${now - DAY}`, `from=${now - 7 * DAY}`, '', `from=${now - 3 * DAY + 12345}&to=${now - DAY - 6789}`];
  const pick = (i: number) => ranges[i % ranges.length]!;
  const cases: Record<string, (i: number) => string> = {
    'list (first page)': (i) => `${base}/alerts?limit=50&${pick(i)}`,
    'list, priority + rule filter': (i) => `${base}/alerts?limit=50&priority=warning&rule=${encodeURIComponent(SEED_RULES[i % SEED_RULES.length]!)}&${pick(i)}`,
    'list, full-text search': (i) => `${base}/alerts?limit=50&q=${['python3', 'shadow', 'id_rsa', 'sudoers nc'][i % 4]}&${pick(i)}`,
    'counts by priority': (i) => `${base}/counts?by=priority&${pick(i)}`,
    'counts by rule': (i) => `${base}/counts?by=rule&limit=10&${pick(i)}`,
    'counts by hostname, priority filter': (i) => `${base}/counts?by=hostname&priority=error&${pick(i)}`,
    'counts by tag': (i) => `${base}/counts?by=tag&${pick(i)}`,
    'counts by rule, host filter': (i) => `${base}/counts?by=rule&hostname=${SEED_HOSTS[i % SEED_HOSTS.length]}&${pick(i)}`,
    'histogram': (i) => `${base}/histogram?${pick(i)}`,
    'histogram, priority filter': (i) => `${base}/histogram?priority=critical&priority=error&${pick(i)}`,
  };
  for (const [name, url] of Object.entries(cases)) {
    await (await fetch(url(0))).arrayBuffer(); // warm the statement cache
    const times: number[] = [];
    const cpus: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const res = await fetch(url(i));
      await res.arrayBuffer();
      const c = process.cpuUsage(c0);
      if (!res.ok) throw new Error(`${url(i)}: ${res.status}`);
      times.push(performance.now() - t0);
      cpus.push((c.user + c.system) / 1000);
    }
    rows.push([`API ${name} (${TOTAL.toLocaleString('en-US')} stored)`,
      `wall p50 ${pct(times, 50).toFixed(1)} / p95 ${pct(times, 95).toFixed(1)} ms; CPU p50 ${pct(cpus, 50).toFixed(1)} / p95 ${pct(cpus, 95).toFixed(1)} ms`, 'p95 ≤ 100 ms']);
  }
  await router.close({ drainMs: 0 });
}

// 4. The size bound: 300,000 alerts into a store limited to 64 MiB; the largest size seen after any insert.
{
  const maxBytes = 64 * 2 ** 20;
  const store = openSqliteStore({ file: join(dir, 'bounded.sqlite'), retentionMs: 0, maxBytes });
  let peak = 0;
  const r = ingest(store, 300_000, now - DAY, now, 1000, () => { peak = Math.max(peak, store.sizeBytes()); });
  const kept = store.total({});
  store.close();
  rows.push(['ui.maxbytes 64 MiB, 300,000 alerts in', `peak ${(peak / 2 ** 20).toFixed(1)} MiB, ${kept.toLocaleString('en-US')} kept; ingest with deletes ${rate(r)}`, 'peak ≤ 64 MiB']);
}

rmSync(dir, { recursive: true, force: true });
const w = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length), 8));
console.log(['measure', 'result', 'target'].map((h, i) => h.padEnd(w[i]!)).join(' | '));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(w[i]!)).join(' | '));
