/**
 * `peregrine run` end to end, by hand, as root (needs the built addon and gcc):
 *   node bench/e2e.ts [samples=200] [opens=1000000] [idleSeconds=10] [--containers=N]
 * Runs the real CLI with falco_rules.yaml + the defaults + one bench rule that fires on opens below a
 * marker directory, delivering to a loopback webhook receiver in this process. Measures:
 *   - latency from just before the openat() in this process to the alert's arrival at the receiver
 *     (p50/p99), with the host idle and while the capture benchmark's open workload runs;
 *   - the agent's CPU (% of one core) and RSS while idle and under that workload;
 *   - syscall events evaluated and kernel drops during the workload.
 * With --containers=N (N > 0; needs containerd, runc and busybox-static: scripts/setup.sh --test) the agent runs
 * against a containerd started here, and the open workload runs three more times in the same agent: with no
 * container, with N containers running (started meanwhile, their metadata cached), and with none again; events/s of
 * each and the cost of the containers (with / mean of the two without).
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitUnlessCaptureAvailable } from './support/capture.ts';
import { startDetector } from '../test/support/detector.ts';
import { falcoPath } from '../test/support/falco-data.ts';
import { buildWorkload } from './support/workload.ts';
import { Containerd, hexId } from '../test/services/containerd.ts';

const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const SAMPLES = Number(positional[0] ?? 200);
const OPENS = Number(positional[1] ?? 1_000_000);
const IDLE_S = Number(positional[2] ?? 10);
const CONTAINERS = Number(flags.find((f) => f.startsWith('--containers='))?.split('=')[1] ?? 0);

exitUnlessCaptureAvailable();

const dir = mkdtempSync(join(tmpdir(), 'pg-e2e-bench-'));
const marks = join(dir, 'marks');
mkdirSync(marks);
const quiet = join(dir, 'quiet');
writeFileSync(quiet, 'x');
const runWorkload = buildWorkload(dir);
const rulesFile = join(dir, 'bench_rules.yaml');
writeFileSync(rulesFile, `- rule: Bench marker open
  desc: an open below the bench's marker directory
  condition: evt.type in (open, openat) and fd.name startswith ${marks}/
  output: bench marker opened (file=%fd.name)
  priority: WARNING
`);

// The receiver stamps arrivals with this process's clock, the same one the sender used.
const arrived = new Map<string, number>();
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const at = performance.now();
    const body = Buffer.concat(chunks).toString('utf8');
    for (const a of (body.trimStart().startsWith('[') ? JSON.parse(body) : [JSON.parse(body)]) as { output_fields: Record<string, unknown> }[]) {
      const f = a.output_fields['fd.name'];
      if (typeof f === 'string' && !arrived.has(f)) arrived.set(f, at);
    }
    res.end('ok');
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;

const rt = CONTAINERS > 0 ? await Containerd.start() : undefined;
const containerConfig = rt
  ? `container:\n  containerd: { socket: ${rt.socket} }\n  cri: { sockets: [${rt.socket}] }\n  docker: { enabled: false }\n  podman: { enabled: false }\n`
  : '';
const det = await startDetector({
  config: `webhook:\n  address: ${hookUrl}\ndetector:\n  stdout: false\n  rulematching: all\n${containerConfig}`,
  rules: [falcoPath('falco_rules.yaml'), rulesFile],
});
if (det.captureOff) throw new Error(det.captureOff);
const pid = det.child.pid!;

const TICKS = 100; // USER_HZ
function cpuTicks(): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
}
function rssMiB(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}
async function metric(re: RegExp): Promise<number> {
  const text = await (await fetch(`${det.url}/metrics`)).text();
  return Number(re.exec(text)?.[1] ?? 0);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/** Samples the agent's CPU (% of one core) and peak RSS while `work` runs. */
async function usageDuring(work: Promise<unknown>): Promise<{ cpu: number; rss: number; seconds: number }> {
  const t0 = performance.now();
  const c0 = cpuTicks();
  let rss = rssMiB();
  let done = false;
  void work.finally(() => { done = true; });
  while (!done) {
    await sleep(200);
    rss = Math.max(rss, rssMiB());
  }
  const seconds = (performance.now() - t0) / 1000;
  return { cpu: ((cpuTicks() - c0) / TICKS / seconds) * 100, rss, seconds };
}

/** Opens marker files one at a time, `gapMs` apart, until `stop()`; returns the latencies in ms. */
async function latencies(count: number, gapMs: number, tag: string, stop = () => false): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count && !stop(); i++) {
    const file = join(marks, `${tag}-${i}`);
    const t0 = performance.now();
    closeSync(openSync(file, 'w'));
    const deadline = t0 + 5000;
    while (!arrived.has(file) && performance.now() < deadline) await sleep(1);
    const at = arrived.get(file);
    if (at !== undefined) out.push(at - t0);
    else console.error(`no alert for ${file} within 5 s`);
    await sleep(gapMs);
  }
  return out;
}

await sleep(2000); // let the /proc snapshot and first batches settle
const idle = await usageDuring(sleep(IDLE_S * 1000));
const idleLat = await latencies(SAMPLES, 20, 'idle');

const ev0 = await metric(/peregrine_events_total\{source="syscall"\} (\d+)/);
const drop0 = await metric(/peregrine_capture_total\{kind="drop_ringbuf_full"\} (\d+)/);
let loadDone = false;
const load = runWorkload('open', OPENS, quiet).finally(() => { loadDone = true; });
const [loaded, loadLat] = await Promise.all([usageDuring(load), latencies(SAMPLES, 20, 'load', () => loadDone)]);
const loadNs = await load;
await sleep(500);
const events = (await metric(/peregrine_events_total\{source="syscall"\} (\d+)/)) - ev0;
const drops = (await metric(/peregrine_capture_total\{kind="drop_ringbuf_full"\} (\d+)/)) - drop0;

console.log('\nperegrine run end to end (falco_rules.yaml + defaults + bench rule; webhook on loopback)');
console.log(`${'phase'.padEnd(34)}${'lat p50 ms'.padStart(11)}${'lat p99 ms'.padStart(11)}${'n'.padStart(6)}${'agent CPU %'.padStart(13)}${'peak RSS MiB'.padStart(14)}`);
const row = (name: string, lat: number[], u: { cpu: number; rss: number }) =>
  console.log(`${name.padEnd(34)}${(lat.length ? pct(lat, 50).toFixed(2) : '-').padStart(11)}${(lat.length ? pct(lat, 99).toFixed(2) : '-').padStart(11)}${String(lat.length).padStart(6)}${u.cpu.toFixed(1).padStart(13)}${u.rss.toFixed(0).padStart(14)}`);
row(`idle (${IDLE_S} s; latency after)`, idleLat, idle);
row(`open+close x${OPENS} (${loaded.seconds.toFixed(1)} s)`, loadLat, loaded);
console.log(`workload: ${(loadNs / OPENS).toFixed(0)} ns/op; syscall events evaluated during it: ${events} (${Math.round(events / loaded.seconds)}/s); kernel drops: ${drops}`);

if (rt) {
  /** One open workload: events evaluated per second of it, its ns per op, the agent's CPU. */
  const phase = async () => {
    const e0 = await metric(/peregrine_events_total\{source="syscall"\} (\d+)/);
    const work = runWorkload('open', OPENS, quiet);
    const u = await usageDuring(work);
    const ns = await work;
    await sleep(500);
    const ev = (await metric(/peregrine_events_total\{source="syscall"\} (\d+)/)) - e0;
    // Agent CPU per event: independent of how fast the workload ran (on a busy host it, not the agent, sets events/s).
    return { eps: ev / u.seconds, nsPerOp: ns / OPENS, cpu: u.cpu, usPerEvent: ev > 0 ? (u.cpu / 100) * u.seconds * 1e6 / ev : NaN, events: ev };
  };
  const none1 = await phase();
  const t0 = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < CONTAINERS; i++) {
    const id = hexId();
    ids.push(id);
    await rt.runCtr({ id });
  }
  const started = (performance.now() - t0) / 1000;
  // Wait until every container's metadata is in the cache (the event stream pre-fills them).
  const found = () => metric(/peregrine_container_metadata_fill_seconds_count\{runtime="containerd"\} (\d+)/);
  const deadline = performance.now() + 60_000;
  while ((await found()) < CONTAINERS && performance.now() < deadline) await sleep(200);
  const filled = await found();
  const fillSum = await metric(/peregrine_container_metadata_fill_seconds_sum\{runtime="containerd"\} ([\d.e+-]+)/);
  let withN: Awaited<ReturnType<typeof phase>>;
  try {
    withN = await phase();
  } finally {
    await rt.stop();
  }
  const none2 = await phase();
  console.log(`\nwith containers: ${CONTAINERS} ctr containers started in ${started.toFixed(1)} s; metadata cached for ${filled} (mean time to fill ${(1000 * fillSum / Math.max(1, filled)).toFixed(1)} ms)`);
  console.log(`${'open+close x' + OPENS + ', same agent'}`.padEnd(40) + 'events/s'.padStart(12) + 'ns/op'.padStart(10) + 'agent CPU %'.padStart(13) + 'agent µs/event'.padStart(16));
  for (const [name, p] of [['no containers', none1], [`${CONTAINERS} containers running`, withN], ['no containers (after)', none2]] as const) {
    console.log(name.padEnd(40) + Math.round(p.eps).toString().padStart(12) + p.nsPerOp.toFixed(0).padStart(10) + p.cpu.toFixed(1).padStart(13) + p.usPerEvent.toFixed(2).padStart(16));
  }
  const base = (none1.eps + none2.eps) / 2;
  const baseCost = (none1.usPerEvent + none2.usPerEvent) / 2;
  console.log(`with ${CONTAINERS} containers running: events/s ${((withN.eps / base - 1) * 100).toFixed(1)} % against the mean without (${Math.round(withN.eps)} vs ${Math.round(base)}); agent CPU per event ${((withN.usPerEvent / baseCost - 1) * 100).toFixed(1)} %`);
}

await det.stop();
receiver.close();
rmSync(dir, { recursive: true, force: true });
