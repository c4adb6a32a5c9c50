// Router throughput benchmark: `node bench/router.ts [alerts] [concurrency] [--brokers]`.
// --brokers adds NATS and Kafka scenarios against real servers (started here, as in the tests).
// Starts `peregrine route` as its own process (so its RSS is its own), a loopback webhook receiver here,
// posts alerts over keep-alive connections, and reports accepted/s, delivered/s, ingest-to-delivery
// latency (p50/p99) and the router's peak RSS. Scenarios run one after the other in the same run.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { connect as natsConnect } from '@nats-io/transport-node';
import { Kafka, logLevel } from 'kafkajs';
import { NatsServer } from '../test/services/nats.ts';
import { KafkaBroker } from '../test/services/kafka.ts';

const numeric = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const TOTAL = Number(numeric[0] ?? 20000);
const CONCURRENCY = Number(numeric[1] ?? 32);
const now = () => performance.timeOrigin + performance.now();

/** Where the router delivers in a scenario, and how the bench reads each alert back. */
interface Sink { yaml: string; close: () => Promise<void> | void }
type SinkFactory = (onAlert: (sentAt: number) => void) => Promise<Sink>;
interface Scenario { name: string; sink: SinkFactory; ratePerSecond?: number; filteredOutputs?: boolean }

const webhookSink = (extra: string): SinkFactory => async (onAlert) => {
  const rx = await receiver(onAlert);
  return { yaml: `webhook:\n  address: "${rx.url}"\n  ${extra}\n`, close: rx.close };
};

const nats = process.argv.includes('--brokers') ? await NatsServer.start() : undefined;
const kafka = process.argv.includes('--brokers') ? await KafkaBroker.start() : undefined;

const natsSink: SinkFactory = async (onAlert) => {
  const nc = await natsConnect({ servers: nats!.url });
  nc.subscribe('falco.>', { callback: (_e, m) => { onAlert((m.json() as { output_fields: { sent_at: number } }).output_fields.sent_at); } });
  await nc.flush();
  return { yaml: `nats:\n  hostport: ${nats!.url}\n`, close: () => nc.close() };
};

let kafkaTopicSeq = 0;
const kafkaSink: SinkFactory = async (onAlert) => {
  const topic = `bench-${kafkaTopicSeq++}`;
  const client = new Kafka({ brokers: [kafka!.bootstrap], logLevel: logLevel.NOTHING });
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
  const consumer = client.consumer({ groupId: `bench-${topic}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => { onAlert((JSON.parse(message.value!.toString()) as { output_fields: { sent_at: number } }).output_fields.sent_at); } });
  return { yaml: `kafka:\n  hostport: ${kafka!.bootstrap}\n  topic: ${topic}\n`, close: () => consumer.disconnect() };
};

const scenarios: Scenario[] = [
  { name: 'paced 1000/s -> webhook (8 in flight)', sink: webhookSink('maxconcurrentrequests: 8'), ratePerSecond: 1000 },
  { name: 'webhook, 1 in flight (Falcosidekick default)', sink: webhookSink('') },
  { name: 'webhook, 8 in flight', sink: webhookSink('maxconcurrentrequests: 8') },
  { name: 'webhook, 8 in flight + 3 filtered outputs', sink: webhookSink('maxconcurrentrequests: 8'), filteredOutputs: true },
  ...(nats && kafka ? [
    { name: 'paced 1000/s -> NATS', sink: natsSink, ratePerSecond: 1000 },
    { name: 'NATS (batches of 100)', sink: natsSink },
    { name: 'paced 1000/s -> Kafka (acks=all)', sink: kafkaSink, ratePerSecond: 1000 },
    { name: 'Kafka (acks=all, batches of 100)', sink: kafkaSink },
  ] : []),
];

async function receiver(onAlert: (sentAt: number) => void): Promise<{ url: string; close: () => void }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { output_fields: { sent_at: number } };
      onAlert(body.output_fields.sent_at);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => { server.closeAllConnections(); server.close(); } };
}

function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function runScenario(s: Scenario, index: number) {
  const latencies: number[] = [];
  let deliveredAt = 0;
  let done!: () => void;
  const allDelivered = new Promise<void>((r) => { done = r; });
  let lastDelivery = 0;
  const sink = await s.sink((sentAt) => {
    lastDelivery = now();
    latencies.push(now() - sentAt);
    if (latencies.length === TOTAL) { deliveredAt = now(); done(); }
  });
  const port = 28000 + index;
  const extra = s.filteredOutputs
    ? `outputs:\n${[1, 2, 3].map((i) => `  - { name: filtered${i}, type: webhook, address: "http://127.0.0.1:9/", minimumpriority: emergency }`).join('\n')}\n`
    : '';
  const dir = mkdtempSync(join(tmpdir(), 'prg-bench-'));
  const cfg = join(dir, 'config.yaml');
  writeFileSync(cfg, `listenaddress: 127.0.0.1\nlistenport: ${port}\nloglevel: warn\n${sink.yaml}${extra}`);
  const child = spawn(process.execPath, ['bin/peregrine', 'route', '-c', cfg], { stdio: ['ignore', 'ignore', 'inherit'] });
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY, pipelining: 1 });
  for (let i = 0; i < 100; i++) {
    try { await pool.request({ path: '/healthz', method: 'GET' }).then((r) => r.body.dump()); break; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  const cpuBefore = readCpu(child.pid!);
  const start = now();
  let next = 0;
  async function worker() {
    while (next < TOTAL) {
      const seq = next++;
      if (s.ratePerSecond) {
        const due = start + (seq * 1000) / s.ratePerSecond;
        if (due > now()) await new Promise((r) => setTimeout(r, due - now()));
      }
      const body = JSON.stringify({
        output: 'Warning Sensitive file opened for reading by non-trusted program', priority: 'Warning',
        rule: 'Read sensitive file untrusted', time: new Date().toISOString(), source: 'syscall', hostname: 'bench',
        tags: ['filesystem'], output_fields: { 'fd.name': '/etc/shadow', 'proc.name': 'cat', sent_at: now() },
      });
      const r = await pool.request({ path: '/', method: 'POST', body, headers: { 'content-type': 'application/json' } });
      await r.body.dump();
      if (r.statusCode !== 200) throw new Error(`router answered ${r.statusCode}`);
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const acceptedAt = now();
  // Done when every alert was delivered or counted as dropped (queue full) by the router.
  let dropped = 0;
  const deadline = now() + 120000;
  while (now() < deadline) {
    dropped = await droppedCount(pool);
    if (latencies.length + dropped >= TOTAL) break;
    await Promise.race([allDelivered, new Promise((r) => setTimeout(r, 200))]);
  }
  const cpu = readCpu(child.pid!) - cpuBefore;
  const rss = peakRssMiB(child.pid!);
  child.kill('SIGTERM');
  await pool.close();
  await sink.close();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return {
    scenario: s.name,
    'accepted/s': Math.round(TOTAL / ((acceptedAt - start) / 1000)),
    'delivered/s': Math.round(latencies.length / (((deliveredAt || lastDelivery) - start) / 1000)),
    delivered: `${latencies.length}/${TOTAL}`,
    dropped,
    'p50 ms': q(0.5).toFixed(2),
    'p99 ms': q(0.99).toFixed(2),
    'router CPU s': cpu.toFixed(2),
    'peak RSS MiB': rss.toFixed(0),
  };
}

async function droppedCount(pool: Pool): Promise<number> {
  const r = await pool.request({ path: '/metrics', method: 'GET' });
  const text = await r.body.text();
  let n = 0;
  for (const line of text.split('\n')) if (line.startsWith('peregrine_output_alerts_total{') && line.includes('result="dropped"')) n += Number(line.split(' ').at(-1));
  return n;
}

function readCpu(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 10 ms
}

const rows = [];
for (const [i, s] of scenarios.entries()) rows.push(await runScenario(s, i));
console.log('Overloaded scenarios post as fast as the clients can: the queue (delivery.queuesize, 10000) fills and the rest is counted as dropped.');
console.log(`router benchmark: ${TOTAL} alerts, ${CONCURRENCY} client connections, node ${process.version}`);
console.table(rows);
await nats?.stop();
await kafka?.stop();
