/**
 * `peregrine run` end to end, by hand, as root (needs the built addon and gcc):
 *   node bench/e2e.ts [samples=200] [opens=1000000] [idleSeconds=10]
 * Runs the real CLI with falco_rules.yaml + the defaults + one bench rule that fires on opens below a
 * marker directory, delivering to a loopback webhook receiver in this process. Measures:
 *   - latency from just before the openat() in this process to the alert's arrival at the receiver
 *     (p50/p99), with the host idle and while the capture benchmark's open workload runs;
 *   - the agent's CPU (% of one core) and RSS while idle and under that workload;
 *   - syscall events evaluated and kernel drops during the workload.
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

const SAMPLES = Number(process.argv[2] ?? 200);
const OPENS = Number(process.argv[3] ?? 1_000_000);
const IDLE_S = Number(process.argv[4] ?? 10);

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

const det = await startDetector({
  config: `webhook:\n  address: ${hookUrl}\ndetector:\n  stdout: false\n  rulematching: all\n`,
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

await det.stop();
receiver.close();
rmSync(dir, { recursive: true, force: true });
