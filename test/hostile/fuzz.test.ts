// Done-when of issue #14: a fuzz run in CI. 10,000 mutations of valid Falco alerts and Kubernetes audit events go
// to the real CLI (`peregrine run`: POST / and POST /k8s-audit), with a valid alert after every few bad ones.
// Never a 5xx, no crash, every valid alert delivered to a loopback webhook receiver, RSS bounded.
// The seed is random per run (FUZZ_SEED=n repeats one) and printed in every failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { startDetector } from '../support/detector.ts';
import { falcoAlert } from '../support/alerts.ts';
import { falcoPath } from '../support/falco-data.ts';
import { HttpReceiver } from '../support/http-receiver.ts';
import { eventually } from '../support/eventually.ts';
import { prng } from '../support/seed-alerts.ts';

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const MUTATIONS = 10_000;
const VALID_EVERY = 5;
const BODY_LIMIT = 65536;

const AUDIT_SAMPLES = ['create_nginx_pod_privileged.json', 'exec_pod.json', 'create_configmap_sensitive_values.json', 'attach_pod.json']
  .map((f) => JSON.parse(readFileSync(falcoPath('k8s_audit_samples', f), 'utf8').split('\n')[0]!) as unknown);

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** Values that broke or silently changed things before: types, ranges, prototypes, dates, sizes, unicode. */
function oddValue(r: Rand, depth = 0): unknown {
  switch (Math.floor(r() * 16)) {
    case 0: return null;
    case 1: return Math.floor(r() * 2 ** 53) * (r() < 0.5 ? -1 : 1);
    case 2: return r() * 1e308;
    case 3: return '';
    case 4: return 'x'.repeat(Math.floor(r() * 5000));
    case 5: return '\u0000\ud800\uffff é 😀 \u202e';
    case 6: return [1, 'a', null, true];
    case 7: return depth < 3 ? { [pick(r, ['__proto__', 'constructor', 'prototype', 'a'])]: oddValue(r, depth + 1) } : {};
    case 8: return pick(r, ['2026-02-30T00:00:00Z', '2026-11-22T24:00:00Z', '2026-11-22T10:20:05.1234567891Z', 'yesterday', '0000-00-00T00:00:00Z']);
    case 9: return pick(r, ['Emergency', 'info', 'WARNING', 'loud', 'debug ', '']);
    case 10: return true;
    case 11: return Array.from({ length: Math.floor(r() * 50) }, () => 'tag');
    case 12: return -0;
    case 13: return '${jndi:ldap://x}{{ .Rule }}%s%n<script>';
    case 14: return { nested: { deeper: [{}] } };
    default: return 12345678901234567890;
  }
}

function mutateObject(r: Rand, base: Record<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = structuredClone(base);
  const keys = [...Object.keys(o), '__proto__', 'constructor', 'output_fields', 'extra'];
  for (let n = 1 + Math.floor(r() * 3); n > 0; n--) {
    const k = pick(r, keys);
    if (r() < 0.3) delete o[k];
    else if (k === 'output_fields' && r() < 0.5) o[k] = { [pick(r, ['__proto__', 'a.b', 'proc.aname[2]', ''])]: oddValue(r) };
    else Object.defineProperty(o, k, { value: oddValue(r), enumerable: true, writable: true, configurable: true });
  }
  return o;
}

function mutateText(r: Rand, text: string): string {
  switch (Math.floor(r() * 10)) {
    case 0: return text.slice(0, Math.floor(r() * text.length));
    case 1: { const i = Math.floor(r() * text.length); return text.slice(0, i) + pick(r, ['"', '{', ']', ',', '\\', '\u0000', 'é']) + text.slice(i); }
    case 2: return text.replace(/\d/, '1e400');
    case 3: return '['.repeat(5000 + Math.floor(r() * 20000)) + ']'.repeat(100);
    case 4: return '';
    case 5: return `[${Array(Math.floor(r() * 5000)).fill('{}').join(',')}]`;
    case 6: return text + text;
    case 7: return `{"a":${'{"a":'.repeat(3000)}1${'}'.repeat(3001)}`;
    case 8: return text + ' '.repeat(BODY_LIMIT); // over bodylimit: 413
    default: return text.replace(/"/g, () => (r() < 0.02 ? "'" : '"'));
  }
}

function rss(pid: number): { rss: number; peak: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)![1]) / 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

test(`fuzz: ${MUTATIONS} mutated alerts and audit events (seed ${SEED})`, { timeout: 600_000 }, async () => {
  const say = (m: string) => `[FUZZ_SEED=${SEED}] ${m}`;
  const rx = await HttpReceiver.start();
  const det = await startDetector({
    config: `bodylimit: ${BODY_LIMIT}\nwebhook:\n  address: ${rx.url}/\n  maxconcurrentrequests: 8\ndetector:\n  capture:\n    enabled: false\n`,
  });
  const pool = new Pool(det.url, { connections: 8 });
  const r = prng(SEED);
  const valid: string[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  try {
    const startRss = rss(det.child.pid!);
    const one = async (i: number) => {
      let path = '/';
      let body: string;
      let label: string;
      if (i % VALID_EVERY === 0) {
        const id = `valid-${i}`;
        valid.push(id);
        body = JSON.stringify(falcoAlert({ output_fields: { fuzz_id: id, 'proc.pid': i } }));
        label = id;
      } else if (r() < 0.5) {
        const o = mutateObject(r, falcoAlert({ output_fields: { fuzz_id: `mut-${i}` } }));
        body = r() < 0.6 ? JSON.stringify(o) : mutateText(r, JSON.stringify(o));
        label = `alert mutation ${i}`;
      } else {
        path = '/k8s-audit';
        const ev = mutateObject(r, pick(r, AUDIT_SAMPLES) as Record<string, unknown>);
        const list = { kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [ev, pick(r, AUDIT_SAMPLES)] };
        body = r() < 0.6 ? JSON.stringify(r() < 0.5 ? list : ev) : mutateText(r, JSON.stringify(list));
        label = `audit mutation ${i}`;
      }
      const type = pick(r, ['application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/json; charset=latin1']);
      const res = await pool.request({ path, method: 'POST', body, headers: { 'content-type': type } });
      const text = await res.body.text();
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      assert.ok(res.statusCode < 500, say(`${label} answered ${res.statusCode} ${text.slice(0, 300)} for ${body.slice(0, 300)}`));
      if (label.startsWith('valid-')) assert.equal(res.statusCode, 200, say(`${label} refused: ${text}`));
    };
    const worker = async () => { while (next < MUTATIONS) await one(next++); };
    await Promise.all(Array.from({ length: 8 }, worker));

    assert.equal(det.child.exitCode, null, say('the process exited'));
    assert.equal((await fetch(`${det.url}/healthz`)).status, 200, say('healthz'));
    await eventually(() => {
      const got = new Set(rx.json<{ output_fields?: { fuzz_id?: string } }>().map((a) => a.output_fields?.fuzz_id));
      const missing = valid.filter((id) => !got.has(id));
      assert.deepEqual(missing.slice(0, 10), [], say(`${missing.length} of ${valid.length} valid alerts not delivered`));
    }, 60_000);
    const mem = rss(det.child.pid!);
    assert.ok(mem.peak < 600, say(`peak RSS ${mem.peak.toFixed(0)} MiB (started at ${startRss.rss.toFixed(0)})`));
    assert.ok(mem.rss - startRss.rss < 300, say(`RSS grew ${(mem.rss - startRss.rss).toFixed(0)} MiB`));
  } finally {
    await pool.close();
    const code = await det.stop();
    await rx.close();
    assert.equal(code, 0, say(`exit code ${code}`));
  }
  console.log(`fuzz seed ${SEED}: statuses ${JSON.stringify(Object.fromEntries(statuses))}, ${valid.length} valid alerts delivered`);
});
