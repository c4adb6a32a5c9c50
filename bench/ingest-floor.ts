// Ingest floor: `node bench/ingest-floor.ts [--seconds=10] [--rounds=3] [--connections=32] [--falcosidekick=PATH]
//               [--programs=node-floor,peregrine,falcosidekick] [--rate=0]` (--rate: alerts/s, 0 = flat out;
//               --programs may also name net-floor, a node:net server below node:http; --generator=lean|undici
//               picks the load generator's HTTP client, as in bench/router.ts)
// How many alerts per second each program accepts flat out with NO output, with the same load generator as
// bench/router.ts (bench/support/load.ts, a worker thread, keep-alive connections):
//   node-floor     a bare node:http server that reads the body, JSON.parses it and answers 200: what any
//                  Node HTTP input costs on this machine before doing anything with the alert;
//   peregrine      `peregrine route` with no output (the ui output off): parse, validate, enrich, durable
//                  spool append before each 200;
//   falcosidekick  Falcosidekick with no output (FALCOSIDEKICK_BIN or --falcosidekick).
// Rounds alternate the programs so machine noise hits all alike; the table gives the median of each, the
// program's CPU per accepted alert (from /proc) and the load generator's (this process) per alert.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/services/process.ts';
import { cpuSeconds, runLoad } from './support/run-load.ts';
import { median } from './support/median.ts';

const args = new Map(process.argv.slice(2).map((a) => {
  const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
  if (!m) throw new Error(`unknown argument ${a} (see the head of bench/ingest-floor.ts)`);
  return [m[1]!, m[2] ?? 'true'] as const;
}));
const SECONDS = Number(args.get('seconds') ?? 10);
const ROUNDS = Number(args.get('rounds') ?? 3);
const CONNECTIONS = Number(args.get('connections') ?? 32);
// The load generator's HTTP client: lean (src/http-client/, the default) or undici (as before December 2026).
const GENERATOR = (args.get('generator') ?? 'lean') as 'lean' | 'undici';
if (GENERATOR !== 'lean' && GENERATOR !== 'undici') throw new Error(`--generator=${GENERATOR}: lean or undici`);
const FALCOSIDEKICK = args.get('falcosidekick') ?? process.env.FALCOSIDEKICK_BIN;
const PROGRAMS = args.has('programs') ? args.get('programs')!.split(',') : ['node-floor', 'peregrine', ...(FALCOSIDEKICK ? ['falcosidekick'] : [])];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The floor server, run as its own process (node -e): read the body, parse it, answer.
const FLOOR_SERVER = `
const http = require('node:http');
const s = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => { if (chunks.length > 0) JSON.parse(Buffer.concat(chunks).toString()); res.end('{}'); });
});
s.keepAliveTimeout = 60000;
s.listen(Number(process.argv[1]), '127.0.0.1');
`;

// A floor below node:http (--programs=net-floor): node:net, the request framed by hand (Content-Length only),
// the body JSON.parsed, a fixed answer. What a Node input costs with no HTTP library at all.
const NET_FLOOR_SERVER = `
const net = require('node:net');
const ANSWER = Buffer.from('HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\ncontent-length: 2\\r\\n\\r\\n{}');
net.createServer((sock) => {
  let buf = null;
  sock.on('data', (d) => {
    buf = buf ? Buffer.concat([buf, d]) : d;
    for (;;) {
      const end = buf.indexOf('\\r\\n\\r\\n');
      if (end < 0) return;
      const m = /\\r\\ncontent-length:\\s*(\\d+)/i.exec(buf.toString('latin1', 0, end));
      const length = m ? Number(m[1]) : 0;
      if (buf.length < end + 4 + length) return;
      if (length > 0) JSON.parse(buf.toString('utf8', end + 4, end + 4 + length));
      sock.write(ANSWER);
      buf = buf.length === end + 4 + length ? null : buf.subarray(end + 4 + length);
      if (!buf) return;
    }
  });
}).listen(Number(process.argv[1]), '127.0.0.1');
`;

// Each program's working directory (Peregrine's spool is in it): removed once the program has stopped.
const tempDirs: string[] = [];

async function start(program: string, port: number): Promise<ChildProcess> {
  if (program === 'net-floor') return spawn(process.execPath, ['-e', NET_FLOOR_SERVER, String(port)], { stdio: 'ignore' });
  if (program === 'node-floor') return spawn(process.execPath, ['-e', FLOOR_SERVER, String(port)], { stdio: 'ignore' });
  if (program === 'falcosidekick') {
    const dir = mkdtempSync(join(tmpdir(), 'bench-floor-fs-'));
    tempDirs.push(dir);
    return spawn(FALCOSIDEKICK!, [], { cwd: dir, stdio: 'ignore', env: { PATH: process.env.PATH, HOME: dir, LISTENADDRESS: '127.0.0.1', LISTENPORT: String(port) } });
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-floor-peregrine-'));
  tempDirs.push(dir);
  const cfg = join(dir, 'config.yaml');
  writeFileSync(cfg, `listenaddress: 127.0.0.1\nlistenport: ${port}\nui:\n  enabled: false\n`);
  return spawn('bin/peregrine', ['route', '-c', cfg], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function waitUp(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      await r.arrayBuffer();
      return;
    } catch { await sleep(100); }
  }
  throw new Error(`nothing answers on port ${port}`);
}

interface Sample { perSecond: number; serverUs: number; generatorUs: number; refused: number }

async function once(program: string): Promise<Sample> {
  const port = await freePort();
  const child = await start(program, port);
  try {
    await waitUp(port);
    const cpu0 = cpuSeconds(child.pid!);
    const gen0 = process.cpuUsage();
    const load = await runLoad({ url: `http://127.0.0.1:${port}`, seconds: SECONDS, rate: Number(args.get('rate') ?? 0), connections: CONNECTIONS, client: GENERATOR, maxAlerts: 4_000_000 });
    const gen = process.cpuUsage(gen0);
    const server = cpuSeconds(child.pid!) - cpu0;
    const n = Math.max(1, load.ackedCount);
    return {
      perSecond: load.ackedCount / (load.elapsedMs / 1000), serverUs: (server * 1e6) / n, generatorUs: (gen.user + gen.system) / n,
      refused: Object.values(load.refused).reduce((a, b) => a + b, 0),
    };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

const samples = new Map<string, Sample[]>(PROGRAMS.map((p) => [p, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const p of PROGRAMS) {
    const s = await once(p);
    samples.get(p)!.push(s);
    console.error(`round ${round + 1} ${p}: ${Math.round(s.perSecond)}/s, program ${s.serverUs.toFixed(0)} µs/alert, generator ${s.generatorUs.toFixed(0)} µs/alert, refused ${s.refused}`);
  }
}
const fsRate = FALCOSIDEKICK ? median(samples.get('falcosidekick')!.map((s) => s.perSecond)) : undefined;
console.log(`ingest floor, no output, flat out ${SECONDS} s x ${ROUNDS} rounds, ${CONNECTIONS} connections (${GENERATOR} generator), node ${process.version} (medians)`);
console.table(PROGRAMS.map((p) => {
  const xs = samples.get(p)!;
  const rate = median(xs.map((s) => s.perSecond));
  return {
    program: p, 'accepted/s': Math.round(rate), 'program µs/alert': Math.round(median(xs.map((s) => s.serverUs))),
    'generator µs/alert': Math.round(median(xs.map((s) => s.generatorUs))),
    ...(fsRate ? { 'vs falcosidekick': `${(rate / fsRate).toFixed(2)}x` } : {}),
  };
}));
