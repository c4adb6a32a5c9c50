// Cost of exact-int64 JSON on the router's ingest path: `node bench/alert-json.ts`.
// Compares plain JSON.parse with parseJson (src/alert/json.ts) on a typical Falco alert, once without a long
// digit run (fast path: one regex test) and once with evt.time in nanoseconds (reviver path), side by side.
import { parseJson, stringifyJson } from '../src/alert/json.ts';

const fields = {
  'container.id': 'host', 'evt.type': 'openat', 'fd.name': '/etc/shadow', 'proc.cmdline': 'cat /etc/shadow',
  'proc.exepath': '/usr/bin/cat', 'proc.name': 'cat', 'proc.pid': 4242, 'proc.pname': 'bash', 'user.loginuid': -1,
  'user.name': 'root', 'user.uid': 0, 'k8s.ns.name': 'prod', 'k8s.pod.name': 'web-7d9f8c6b5-x2x9z',
};
const base = {
  hostname: 'node-1', output: '10:20:05.408091526: Warning Sensitive file opened for reading by non-trusted program (file=/etc/shadow ...)',
  priority: 'Warning', rule: 'Read sensitive file untrusted', source: 'syscall', tags: ['T1555', 'filesystem', 'mitre_credential_access'],
  time: '2026-11-22T10:20:05.408091526Z',
};
// Distinct texts, as each request body is a new string (V8 must not get to reuse one parse).
const plainTexts = Array.from({ length: 1024 }, (_, i) => JSON.stringify({ ...base, output_fields: { ...fields, 'proc.pid': 4242 + i } }));
const int64Texts = plainTexts.map((t, i) => t.replace('"container.id"', `"evt.time":${1470327477881781397n + BigInt(i)},"container.id"`));
const plainText = plainTexts[0]!;
const int64Text = int64Texts[0]!;
let next = 0;
const plain = () => plainTexts[next++ & 1023]!;
const int64 = () => int64Texts[next++ & 1023]!;

// The JSON.parse reviver with context.source (Node 24): exact too; measured here as the alternative.
function reviverParse(text: string): unknown {
  return JSON.parse(text, function (this: unknown, _k: string, v: unknown, ctx?: { source?: string }) {
    return typeof v === 'number' && !Number.isSafeInteger(v) && ctx?.source && /^-?\d+$/.test(ctx.source) ? BigInt(ctx.source) : v;
  } as never);
}

const parsed = parseJson(int64Text);
const plainParsed = JSON.parse(plainText);
const cases: [string, () => unknown][] = [
  ['JSON.parse, no long digits', () => JSON.parse(plain())],
  ['parseJson, no long digits (fast path)', () => parseJson(plain())],
  ['JSON.parse, evt.time ns (lossy)', () => JSON.parse(int64())],
  ['parseJson, evt.time ns (exact)', () => parseJson(int64())],
  ['reviver with context.source, evt.time ns', () => reviverParse(int64())],
  ['JSON.stringify, no bigint', () => JSON.stringify(plainParsed)],
  ['stringifyJson, no bigint', () => stringifyJson(plainParsed)],
  ['stringifyJson, with bigint (replacer)', () => stringifyJson(parsed)],
];

/** Best of `rounds` interleaved 0.5 s runs per case (the machine is shared: the best run is the least disturbed). */
function measure(rounds = 5): Map<string, number> {
  const best = new Map<string, number>();
  for (const [, fn] of cases) for (let i = 0; i < 20000; i++) fn(); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const [label, fn] of cases) {
      let n = 0;
      const t0 = performance.now();
      const end = t0 + 500;
      while (performance.now() < end) { for (let i = 0; i < 500; i++) fn(); n += 500; }
      const perSec = n / ((performance.now() - t0) / 1000);
      best.set(label, Math.max(best.get(label) ?? 0, perSec));
    }
  }
  return best;
}

console.log(`alert JSON: ${plainText.length} bytes; with evt.time: ${int64Text.length} bytes`);
const best = measure();
for (const [label, perSec] of best) console.log(`${label.padEnd(44)} ${(perSec / 1e3).toFixed(0).padStart(6)} k/s`);
const r = (a: string, b: string) => (best.get(a)! / best.get(b)!).toFixed(2);
console.log(`ratios: fast path / JSON.parse ${r('parseJson, no long digits (fast path)', 'JSON.parse, no long digits')}; `
  + `exact / lossy JSON.parse ${r('parseJson, evt.time ns (exact)', 'JSON.parse, evt.time ns (lossy)')}; `
  + `reviver / lossy JSON.parse ${r('reviver with context.source, evt.time ns', 'JSON.parse, evt.time ns (lossy)')}; `
  + `stringifyJson / JSON.stringify ${r('stringifyJson, no bigint', 'JSON.stringify, no bigint')}; `
  + `with bigint / plain ${r('stringifyJson, with bigint (replacer)', 'JSON.stringify, no bigint')}`);
