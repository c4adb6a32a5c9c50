// Router benchmark, Peregrine side by side with Falcosidekick in one run:
//   node bench/router.ts [--falcosidekick=PATH] [--seconds=20] [--connections=32] [--only=paced5000,flat,latency,nats]
//                        [--programs=peregrine,falcosidekick] [--peregrine-inflight=default|N] [--drain-timeout=300] [--rounds=1]
//                        [--cpu-prof=DIR] [--peregrine-env=NAME=value,...] [--latency-trace=DIR] [--warmup=0]
//                        [--generator=lean|undici] [--log-dir=DIR]
// The Falcosidekick binary comes from --falcosidekick or FALCOSIDEKICK_BIN (bench/README.md says how to build
// it); without one, only Peregrine runs. Each program runs as its own process with the same load generator (a
// worker thread posting over keep-alive connections) and the same loopback receiver (this process), and with
// its defaults apart from where to listen and where to deliver: webhook output with each program's defaults
// (Falcosidekick: maxconcurrentrequests 1; Peregrine: adaptive concurrency up to 64, as issue #12 asked), or with
// Peregrine held to N requests in flight by --peregrine-inflight=N (1 = Falcosidekick's fixed default).
// --rounds=N repeats every scenario N times, the programs' order swapped each round (the machine is shared and its
// load drifts), and the summary gives each ratio per round and their median.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import { NatsServer } from '../test/services/nats.ts';
import { freePort } from '../test/services/process.ts';
import { cpuSeconds, runLoad } from './support/run-load.ts';
import { median } from './support/median.ts';

const args = new Map(process.argv.slice(2).map((a) => {
  const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
  if (!m) throw new Error(`unknown argument ${a} (options are --name=value; see the head of bench/router.ts)`);
  return [m[1]!, m[2] ?? 'true'] as const;
}));
const SECONDS = Number(args.get('seconds') ?? 20);
const CONNECTIONS = Number(args.get('connections') ?? 32);
// The load generator's HTTP client: lean (src/http-client/, the default) or undici (as before December 2026).
const GENERATOR = (args.get('generator') ?? 'lean') as 'lean' | 'undici';
if (GENERATOR !== 'lean' && GENERATOR !== 'undici') throw new Error(`--generator=${GENERATOR}: lean or undici`);
const DRAIN_TIMEOUT_S = Number(args.get('drain-timeout') ?? 300);
const ONLY = new Set((args.get('only') ?? 'paced5000,flat,latency,nats').split(','));
const FALCOSIDEKICK = args.get('falcosidekick') ?? process.env.FALCOSIDEKICK_BIN;
const PROGRAMS = (args.get('programs') ?? 'peregrine,falcosidekick').split(',').filter((p) => p !== 'falcosidekick' || FALCOSIDEKICK);
const PEREGRINE_INFLIGHT = args.get('peregrine-inflight') ?? 'default';
if (PEREGRINE_INFLIGHT !== 'default' && !(Number(PEREGRINE_INFLIGHT) >= 1)) throw new Error(`--peregrine-inflight=${PEREGRINE_INFLIGHT}: default or a number >= 1`);
const ROUNDS = Number(args.get('rounds') ?? 1);
if (!(Number.isInteger(ROUNDS) && ROUNDS >= 1)) throw new Error(`--rounds=${args.get('rounds')}: a whole number >= 1`);
const CPU_PROF = args.get('cpu-prof');
// Extra environment for Peregrine only, e.g. --peregrine-env=UI_ENABLED=false (its config keys are env vars).
const PEREGRINE_ENV = Object.fromEntries((args.get('peregrine-env') ?? '').split(',').filter(Boolean).map((kv) => {
  const i = kv.indexOf('=');
  if (i < 1) throw new Error(`--peregrine-env: "${kv}" is not NAME=value`);
  return [kv.slice(0, i), kv.slice(i + 1)];
}));
// Where to write each run's per-alert latency over time (CSV: seq, ms since the first send, latency ms), to tell
// warm-up from periodic stalls from queueing.
const LATENCY_TRACE = args.get('latency-trace');
const LOG_DIR = args.get('log-dir');
// Seconds of the same load sent to each program (Falcosidekick as Peregrine) before the timed run and left out of
// every figure: the first alerts after a start are slow in both (cold code, first connections). 0 = time from
// the start, as a freshly started router is used.
const WARMUP_S = Number(args.get('warmup') ?? 0);
// The paced 1,000/s scenario alone runs the bench's own JavaScript (generator and receiver) without V8's optimizing
// compiler: ~10,000 alerts into a run it compiled their hot functions in a burst of background CPU (0.5-1 s of it
// within a second) that, on 2 cores, stalled both programs' deliveries for 100-500 ms (bench/README.md). The
// programs are separate processes and keep their own defaults. Other scenarios need the generator at full speed.
const BENCH_NO_TURBOFAN = ONLY.size === 1 && ONLY.has('latency');
if (BENCH_NO_TURBOFAN) setFlagsFromString('--no-turbofan');
const MAX_ALERTS = 4_000_000;
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Output = { kind: 'webhook'; url: string } | { kind: 'nats'; url: string };

/** dir: the program's config, spool and working directory, removed once it has stopped. */
interface Running { child: ChildProcess; port: number; dir: string; logBytes: () => number }

/** Starts one program listening on loopback and delivering to `output`; resolves once /healthz answers. */
async function startProgram(program: string, output: Output): Promise<Running> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `bench-${program}-`));
  let child: ChildProcess;
  if (program === 'peregrine') {
    const out = output.kind === 'webhook'
      ? `webhook:\n  address: "${output.url}"\n${PEREGRINE_INFLIGHT === 'default' ? '' : `  maxconcurrentrequests: ${PEREGRINE_INFLIGHT}\n`}`
      : `nats:\n  hostport: "${output.url}"\n`;
    const cfg = join(dir, 'config.yaml');
    writeFileSync(cfg, `listenaddress: 127.0.0.1\nlistenport: ${port}\n${out}`);
    // Run as users do (the node flags of its #! line apply); the node on PATH must be Node 24.
    const env: NodeJS.ProcessEnv = { ...process.env, ...PEREGRINE_ENV };
    if (CPU_PROF) env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${CPU_PROF}`.trim();
    child = spawn('bin/peregrine', ['route', '-c', cfg], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  } else {
    // Falcosidekick reads every key from the environment; nothing else is set, so the rest are its defaults.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, LISTENADDRESS: '127.0.0.1', LISTENPORT: String(port) };
    if (output.kind === 'webhook') env.WEBHOOK_ADDRESS = output.url;
    else env.NATS_HOSTPORT = output.url;
    child = spawn(FALCOSIDEKICK!, [], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  }
  // Read the logs as a log collector would (a pipe, not /dev/null): their cost is part of the program's.
  // --log-dir keeps them (one file per program start) to see what a program said under load.
  let bytes = 0;
  if (LOG_DIR) mkdirSync(LOG_DIR, { recursive: true });
  const keep = LOG_DIR ? join(LOG_DIR, `${program}-${output.kind}-${Date.now()}.log`) : undefined;
  child.stdout!.on('data', (b: Buffer) => { bytes += b.length; if (keep) appendFileSync(keep, b); });
  const stderr: string[] = [];
  child.stderr!.on('data', (b: Buffer) => { bytes += b.length; stderr.push(b.toString()); if (stderr.length > 50) stderr.shift(); });
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${program} exited with ${child.exitCode}: ${stderr.join('')}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      await r.arrayBuffer();
      if (r.ok) return { child, port, dir, logBytes: () => bytes };
    } catch { /* not listening yet */ }
    await sleep(50);
  }
  child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`${program} did not answer /healthz within 10 s: ${stderr.join('')}`);
}

async function stopProgram(r: Running): Promise<void> {
  if (r.child.exitCode === null) {
    const exited = new Promise<void>((res) => r.child.once('exit', () => res()));
    r.child.kill('SIGTERM');
    const timer = setTimeout(() => r.child.kill('SIGKILL'), 30000);
    await exited;
    clearTimeout(timer);
  }
  // Each run's spool is up to ~200 MB: left behind, a few dozen runs filled gigabytes of /tmp.
  rmSync(r.dir, { recursive: true, force: true });
}

/** What the receiving end saw: which alerts arrived (by sequence number), when, and their latency. */
class Deliveries {
  readonly seen = new Uint8Array(MAX_ALERTS);
  readonly latencyMs = new Float64Array(MAX_ALERTS);
  readonly sentAt = new Float64Array(MAX_ALERTS);
  unique = 0;
  duplicates = 0;
  last = 0;
  record(text: string): void {
    const seq = Number(/"seq":(\d+)/.exec(text)?.[1]);
    const sentAt = Number(/"sent_at":([\d.e+]+)/.exec(text)?.[1]);
    if (!Number.isInteger(seq)) throw new Error(`receiver: no seq in ${text.slice(0, 200)}`);
    const t = now();
    this.last = t;
    if (this.seen[seq]) { this.duplicates++; return; }
    this.seen[seq] = 1;
    this.latencyMs[seq] = t - sentAt;
    this.sentAt[seq] = sentAt;
    this.unique++;
  }
}

async function webhookReceiver(d: () => Deliveries): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => { d().record(Buffer.concat(chunks).toString()); res.end(); });
  });
  server.keepAliveTimeout = 60000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

function rssSampler(pid: number): { stop: () => number } {
  let peak = 0;
  const read = () => {
    try {
      const s = readFileSync(`/proc/${pid}/status`, 'utf8');
      peak = Math.max(peak, Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0), Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0));
    } catch { /* exited */ }
  };
  const timer = setInterval(read, 100);
  return { stop: () => { read(); clearInterval(timer); return peak / 1024; } };
}

type MachineTicks = { total: number; steal: number; idle: number };

/** The machine's CPU time so far (all cores, in ticks): stolen by the hypervisor for other guests, and idle. */
function machineTicks(): MachineTicks {
  // user nice system idle iowait irq softirq steal
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: f.reduce((a, b) => a + b, 0), steal: f[7]!, idle: f[3]! + f[4]! };
}

/**
 * Shares of the machine's CPU time since `from`, in %: steal (on a shared VM it swings 2-48 % within minutes and
 * says how far to trust a run) and busy (neither idle, waiting for I/O nor stolen).
 */
function machineShares(from: MachineTicks): { steal: number; busy: number } {
  const to = machineTicks();
  const total = Math.max(1, to.total - from.total);
  const steal = to.steal - from.steal;
  return { steal: Math.round((100 * steal) / total), busy: Math.round((100 * (total - (to.idle - from.idle) - steal)) / total) };
}

interface Row {
  scenario: string; program: string; sent: number; accepted: number; 'accepted/s': number; refused: string;
  'during load': number; delivered: number; lost: number; dup: number; 'drain s': string; 'delivered/s': number;
  'p50 ms': string; 'p99 ms': string; 'p99 after 1st s': string; 'peak RSS MiB': number; 'CPU s': number; 'alerts/CPU s': number; 'log MiB': number; 'steal %': number;
  'load µs/alert program': number; 'load µs/alert bench': number; 'busy %': number;
}

/** Untimed load, then waits until all of it arrived: none of it may reach the timed run's receiver (seqs restart at 0). */
async function warmUp(running: Running, rate: number, setSink: (d: Deliveries) => void): Promise<void> {
  const w = new Deliveries();
  setSink(w);
  const load = await runLoad({ url: `http://127.0.0.1:${running.port}`, seconds: WARMUP_S, rate, connections: CONNECTIONS, client: GENERATOR, maxAlerts: MAX_ALERTS });
  const end = now();
  while (w.unique + w.duplicates < load.ackedCount && now() - end < DRAIN_TIMEOUT_S * 1000) await sleep(50);
  await sleep(200);
}

async function runOne(scenario: string, program: string, rate: number, output: Output, setSink: (d: Deliveries) => void): Promise<Row> {
  const d = new Deliveries();
  setSink(d);
  const running = await startProgram(program, output);
  if (WARMUP_S > 0) await warmUp(running, rate, setSink);
  setSink(d);
  const rss = rssSampler(running.child.pid!);
  const cpu0 = cpuSeconds(running.child.pid!);
  const ticks0 = machineTicks();
  const benchCpu0 = process.cpuUsage();
  const start = now();
  const load = await runLoad({ url: `http://127.0.0.1:${running.port}`, seconds: SECONDS, rate, connections: CONNECTIONS, client: GENERATOR, maxAlerts: MAX_ALERTS });
  const loadEnd = now();
  const { steal, busy } = machineShares(ticks0);
  // Who used the machine while the load ran, per accepted alert: the program (all its threads) and this process
  // (the generator's thread and the receiver). Flat out the 2 cores are busy, so accepted/s is about the busy CPU
  // divided by the sum of the two (bench/README.md, "What flat-out ingest is bounded by").
  const loadCpuProgram = cpuSeconds(running.child.pid!) - cpu0;
  const benchCpu = process.cpuUsage(benchCpu0);
  const loadCpuBench = (benchCpu.user + benchCpu.system) / 1e6;
  const perAlertUs = (s: number) => Math.round((s * 1e6) / Math.max(1, load.ackedCount));
  const deliveredDuringLoad = d.unique;
  // Drain: until every acknowledged alert arrived, or nothing arrived for 30 s, or the drain timeout.
  const countAckedDelivered = () => { let n = 0; for (let i = 0; i < load.sent; i++) if (load.acked[i] && d.seen[i]) n++; return n; };
  let drained = false;
  while (now() - loadEnd < DRAIN_TIMEOUT_S * 1000) {
    if (d.unique >= load.ackedCount && countAckedDelivered() === load.ackedCount) { drained = true; break; }
    if (now() - Math.max(d.last, loadEnd) > 30000) break;
    await sleep(100);
  }
  const drainS = drained ? (Math.max(d.last, loadEnd) - loadEnd) / 1000 : NaN;
  const delivered = countAckedDelivered();
  const waitedS = (now() - loadEnd) / 1000;
  const cpu = cpuSeconds(running.child.pid!) - cpu0;
  const peak = rss.stop();
  const logMiB = running.logBytes() / 2 ** 20;
  await stopProgram(running);
  const lat: number[] = [];
  for (let i = 0; i < load.sent; i++) if (d.seen[i]) lat.push(d.latencyMs[i]!);
  const firstSent = d.sentAt.subarray(0, load.sent).reduce((a, t) => (t && t < a ? t : a), Infinity);
  if (LATENCY_TRACE) {
    // acked_ms: when the router's 200 reached the generator (after sent_ms); latency_ms: sent -> received.
    const lines = ['seq,sent_ms,latency_ms,acked_ms'];
    for (let i = 0; i < load.sent; i++) if (d.seen[i]) lines.push(`${i},${(d.sentAt[i]! - firstSent).toFixed(1)},${d.latencyMs[i]!.toFixed(2)},${(load.ackedAt[i]! - firstSent).toFixed(1)}`);
    mkdirSync(LATENCY_TRACE, { recursive: true });
    writeFileSync(join(LATENCY_TRACE, `${scenario.split(' ')[0]}${rate}${output.kind === 'webhook' ? '' : `-${output.kind}`}-${program}${ROUNDS > 1 ? `-round${currentRound}` : ''}.csv`), lines.join('\n') + '\n');
  }
  // The same without the alerts sent in the first second: tells a start-up stall from one that recurs.
  const late: number[] = [];
  for (let i = 0; i < load.sent; i++) if (d.seen[i] && d.sentAt[i]! - firstSent >= 1000) late.push(d.latencyMs[i]!);
  lat.sort((a, b) => a - b);
  late.sort((a, b) => a - b);
  const quantile = (xs: number[], p: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!.toFixed(1) : '-');
  const q = (p: number) => quantile(lat, p);
  return {
    scenario, program, sent: load.sent, accepted: load.ackedCount,
    'accepted/s': Math.round(load.ackedCount / (load.elapsedMs / 1000)),
    refused: Object.entries(load.refused).map(([k, v]) => `${k}:${v}`).join(' ') || '0',
    'during load': deliveredDuringLoad, delivered, lost: load.ackedCount - delivered, dup: d.duplicates,
    'drain s': drained ? drainS.toFixed(1) : `>${waitedS.toFixed(0)} (not drained)`,
    'delivered/s': Math.round(d.unique / ((Math.max(d.last, start + 1) - start) / 1000)),
    'p50 ms': q(0.5), 'p99 ms': q(0.99), 'p99 after 1st s': quantile(late, 0.99), 'peak RSS MiB': Math.round(peak), 'CPU s': Math.round(cpu * 10) / 10,
    'alerts/CPU s': Math.round(load.ackedCount / Math.max(cpu, 0.01)),
    'log MiB': Math.round(logMiB * 10) / 10,
    'steal %': steal,
    'load µs/alert program': perAlertUs(loadCpuProgram), 'load µs/alert bench': perAlertUs(loadCpuBench), 'busy %': busy,
  };
}

let sink = new Deliveries();
/** Names the latency traces of each round. */
let currentRound = 1;
const setSink = (d: Deliveries) => { sink = d; };
const rx = await webhookReceiver(() => sink);
const webhook: Output = { kind: 'webhook', url: rx.url };
let nats: NatsServer | undefined;
let natsSub: NatsConnection | undefined;
if (ONLY.has('nats')) {
  nats = await NatsServer.start();
  natsSub = await natsConnect({ servers: nats.url });
  natsSub.subscribe('falco.>', { callback: (_e, m) => sink.record(m.string()) });
  await natsSub.flush();
}

const scenarios: { key: string; name: string; rate: number; output: Output }[] = [
  { key: 'paced5000', name: `paced 5000/s x ${SECONDS}s -> webhook`, rate: 5000, output: webhook },
  { key: 'flat', name: `flat out x ${SECONDS}s -> webhook`, rate: 0, output: webhook },
  { key: 'latency', name: `paced 1000/s x ${SECONDS}s -> webhook`, rate: 1000, output: webhook },
  ...(nats ? [{ key: 'nats', name: `flat out x ${SECONDS}s -> NATS`, rate: 0, output: { kind: 'nats', url: nats.url } as Output }] : []),
];

const rows: (Row & { round: number })[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  currentRound = round;
  // Odd rounds in the given order, even rounds reversed: drift in the machine's load, and the receiver being
  // warm for whoever runs second, fall on each program alike.
  const order = round % 2 === 1 ? PROGRAMS : [...PROGRAMS].reverse();
  for (const s of scenarios.filter((x) => ONLY.has(x.key))) {
    for (const p of order) {
      const row = await runOne(s.name, p, s.rate, s.output, setSink);
      rows.push({ round, ...row });
      console.error(`${ROUNDS > 1 ? `round ${round}: ` : ''}${s.name} / ${p}: accepted ${row.accepted} (${row['accepted/s']}/s), delivered during load ${row['during load']} (${Math.round(100 * row['during load'] / Math.max(1, row.accepted))} %), CPU ${row['CPU s']} s, delivered ${row.delivered}, lost ${row.lost}, drain ${row['drain s']} s, RSS ${row['peak RSS MiB']} MiB, steal ${row['steal %']} %, busy ${row['busy %']} %, µs/alert during load ${row['load µs/alert program']} program + ${row['load µs/alert bench']} bench`);
    }
  }
}
natsSub && await natsSub.close();
await nats?.stop();
rx.server.closeAllConnections();
rx.server.close();

console.log(`router benchmark, node ${process.version}, ${CONNECTIONS} client connections (${GENERATOR} generator), Peregrine webhook in flight: ${PEREGRINE_INFLIGHT === 'default' ? 'its default (adaptive)' : PEREGRINE_INFLIGHT}${ROUNDS > 1 ? `, ${ROUNDS} rounds` : ''}${BENCH_NO_TURBOFAN ? ', bench process without TurboFan' : ''}${WARMUP_S > 0 ? `, untimed warm-up ${WARMUP_S} s each` : ''}${Object.keys(PEREGRINE_ENV).length ? `, Peregrine env: ${JSON.stringify(PEREGRINE_ENV)}` : ''}`);
console.table(rows);

const find = (key: string, program: string, round: number) =>
  rows.find((r) => r.round === round && r.scenario === scenarios.find((s) => s.key === key)?.name && r.program === program);
if (PROGRAMS.includes('falcosidekick') && PROGRAMS.includes('peregrine')) {
  const num = (x: string | number | undefined) => (x === undefined || x === '-' ? undefined : Number(x));
  /** Peregrine / Falcosidekick of one column in each round, and the median of those ratios. */
  const ratios = (key: string, col: keyof Row) => {
    const per: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const a = num(find(key, 'peregrine', round)?.[col] as string | number | undefined);
      const b = num(find(key, 'falcosidekick', round)?.[col] as string | number | undefined);
      if (a !== undefined && b) per.push(a / b);
    }
    if (per.length === 0) return { ratio: '-', rounds: '' };
    return { ratio: median(per).toFixed(2), rounds: per.map((x) => x.toFixed(2)).join(' ') };
  };
  const peregrineRows = rows.filter((r) => r.program === 'peregrine');
  const summary = [
    { measure: 'ingest/s flat out (accepted/s), Peregrine / Falcosidekick', ...ratios('flat', 'accepted/s'), target: '>= 1.5' },
    { measure: 'p99 at 1000/s, Peregrine / Falcosidekick', ...ratios('latency', 'p99 ms'), target: '<= 1' },
    { measure: 'p99 at 1000/s leaving out the first second, Peregrine / Falcosidekick', ...ratios('latency', 'p99 after 1st s'), target: '' },
    { measure: 'p50 at 1000/s, Peregrine / Falcosidekick', ...ratios('latency', 'p50 ms'), target: '' },
    { measure: 'NATS flat out delivered/s, Peregrine / Falcosidekick', ...ratios('nats', 'delivered/s'), target: '>= 4' },
    { measure: 'webhook flat out delivered/s, Peregrine / Falcosidekick', ...ratios('flat', 'delivered/s'), target: '' },
    { measure: 'flat out, program CPU per accepted alert during the load, Peregrine / Falcosidekick', ...ratios('flat', 'load µs/alert program'), target: '' },
    { measure: 'peak RSS over all runs, Peregrine (MiB)', ratio: String(Math.max(...peregrineRows.map((r) => r['peak RSS MiB']))), rounds: '', target: '<= 256' },
    { measure: 'lost (acknowledged, not delivered by the end of the drain wait), Peregrine', ratio: String(peregrineRows.reduce((a, r) => a + r.lost, 0)), rounds: '', target: '0' },
  ];
  // With one round the per-round column repeats the ratio.
  console.table(ROUNDS > 1 ? summary.map(({ measure, ratio, rounds, target }) => ({ measure, 'median ratio': ratio, 'per round': rounds, target }))
    : summary.map(({ measure, ratio, target }) => ({ measure, ratio, target })));
}
