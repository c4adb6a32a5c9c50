/**
 * Rule engine throughput and load time (issue #4), side by side in one run:
 *   - load+compile time of falco_rules.yaml, k8s_audit_rules.yaml and Peregrine's defaults;
 *   - events/s evaluated with all of falco_rules.yaml loaded (rule_matching first) on a realistic syscall mix
 *     (mostly opens of ordinary files, execs, connects; a few that fire), one core;
 *   - the same mix against a single-rule engine, as the floor the index and closures are compared with;
 *   - k8s audit events/s with k8s_audit_rules.yaml.
 * Each timed run follows an untimed warm-up (up to 1 s), so the figures are steady-state throughput.
 * Usage: node bench/engine.ts [seconds-per-run=3]
 */
import { readFileSync } from 'node:fs';
import { loadRules, type RuleEngine } from '../src/engine/engine.ts';
import { syscallFields } from '../src/engine/fields/syscall.ts';
import { k8sAuditFields } from '../src/engine/fields/k8s_audit.ts';
import { compileOutputFormat } from '../src/engine/format.ts';
import { DEFAULT_RULES_DIR, expandRuleFiles } from '../src/engine/rules-files.ts';
import { container, exec, openFile, syscall } from '../src/engine/testing/events.ts';
import { parseAuditBody } from '../src/k8saudit/parse.ts';
import type { EngineEvent } from '../src/engine/event.ts';

const SHARED = new URL('../../shared/falco/', import.meta.url).pathname;
const seconds = Number(process.argv[2] ?? 3);
const WARM_UP_MS = Math.min(1000, seconds * 500);
const opts = { tables: [syscallFields, k8sAuditFields], compileOutput: compileOutputFormat };

function timeLoad(files: string[], runs = 5): { ms: number; engine: RuleEngine } {
  let best = Infinity;
  let engine!: RuleEngine;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = loadRules(files.map((name) => ({ name, content: readFileSync(name, 'utf8') })), opts);
    best = Math.min(best, performance.now() - t0);
    if (r.errors.length) throw new Error(r.errors[0]!.message);
    engine = r.engine;
  }
  return { ms: best, engine };
}

/**
 * Untimed passes first: the generated conditions reach V8's optimising tier a second or so into a run, and
 * a timed run that starts cold reports anywhere between that tier and the baseline one.
 */
function warmUp(run: (e: EngineEvent) => unknown, events: EngineEvent[]): void {
  const end = performance.now() + WARM_UP_MS;
  while (performance.now() < end) for (const e of events) run(e);
}

function throughput(engine: RuleEngine, events: EngineEvent[]): { perSec: number; matches: number } {
  warmUp((e) => engine.evaluate(e), events);
  let n = 0;
  let matches = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < events.length; i++) matches += engine.evaluate(events[i]!).length;
    n += events.length;
  }
  return { perSec: n / seconds, matches };
}

/**
 * The previous engine, same index: each candidate rule runs its whole condition as a closure tree, without
 * per-type folding or inlining (rule.matches). Side by side with `throughput` in one run.
 */
function throughputWholeConditions(engine: RuleEngine, events: EngineEvent[]): { perSec: number; matches: number } {
  const byType = new Map<string, RuleEngine['rules'][number][]>();
  for (const e of events) {
    if (e.source !== 'syscall' || byType.has(e.type)) continue;
    byType.set(e.type, engine.rules.filter((r) => r.source === 'syscall' && (!r.eventTypes || r.eventTypes.has(e.type))));
  }
  const whole = (e: EngineEvent) => {
    let m = 0;
    for (const r of byType.get((e as { type: string }).type) ?? []) if (r.matches(e)) m++;
    return m;
  };
  warmUp(whole, events);
  let n = 0;
  let matches = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      for (const r of byType.get((e as { type: string }).type) ?? []) if (r.matches(e)) matches++;
    }
    n += events.length;
  }
  return { perSec: n / seconds, matches };
}

// A mix shaped like a busy node: opens dominate, then execs and connects; ~1% fire a rule.
const web = container({ imageRepository: 'docker.io/library/nginx' });
const mix: EngineEvent[] = [];
for (let i = 0; i < 1000; i++) {
  const k = i % 100;
  if (k < 60) mix.push(openFile(`/var/lib/app/data-${i}.db`, i % 3 === 0 ? 0o101 : 0, { comm: 'postgres', ancestors: ['postgres', 'systemd'] }));
  else if (k < 75) mix.push(openFile('/etc/ld.so.cache', 0o2000000, { comm: 'bash' }));
  else if (k < 88) mix.push(exec({ comm: 'ls', args: ['-la', '/tmp'], ancestors: ['bash', 'sshd'] }, i % 2 ? web : undefined));
  else if (k < 98) mix.push(syscall({ type: 'connect', res: 0, thread: { comm: 'curl' }, fd: { num: 3, type: 'ipv4', name: '', cip: '10.0.0.5', cport: 40000, sip: '10.0.0.9', sport: 5432, l4proto: 'tcp' } }));
  else if (k === 98) mix.push(openFile('/etc/shadow', 0, { comm: 'cat' }));
  else mix.push(exec({ comm: 'sh', args: ['-c', 'id'], ancestors: ['nginx', 'systemd'] }));
}

const falco = timeLoad([`${SHARED}falco_rules.yaml`]);
const k8s = timeLoad([`${SHARED}k8s_audit_rules.yaml`]);
const defaults = timeLoad(expandRuleFiles([DEFAULT_RULES_DIR]));
const single = loadRules([{ name: 'one.yaml', content: '- rule: one\n  desc: d\n  condition: evt.type = openat and fd.name = /etc/shadow\n  output: o\n  priority: INFO\n' }], opts).engine;

const audit: EngineEvent[] = [];
for (const f of ['create_nginx_pod_privileged.json', 'exec_pod.json', 'create_configmap.json', 'some-user_creates_namespace_foo.json']) {
  audit.push(...parseAuditBody(readFileSync(`${SHARED}k8s_audit_samples/${f}`, 'utf8').split('\n')[0]!).events);
}

const full = throughput(falco.engine, mix);
const whole = throughputWholeConditions(falco.engine, mix);
const floor = throughput(single, mix);
const ka = throughput(k8s.engine, audit);
const rss = process.memoryUsage().rss / 2 ** 20;

console.log(`node ${process.version}, ${seconds}s per run after ${WARM_UP_MS / 1000}s warm-up, one core`);
console.log('load + compile (best of 5):');
console.log(`  falco_rules.yaml       ${falco.ms.toFixed(1)} ms  (${falco.engine.counts().rules} rules, ${falco.engine.counts().macros} macros, ${falco.engine.counts().lists} lists)`);
console.log(`  k8s_audit_rules.yaml   ${k8s.ms.toFixed(1)} ms  (${k8s.engine.counts().rules} rules)`);
console.log(`  config/rules (default) ${defaults.ms.toFixed(1)} ms  (${defaults.engine.counts().rules} rules)`);
console.log('evaluation:');
console.log(`  syscall mix, all falco_rules.yaml  ${(full.perSec / 1e6).toFixed(2)} M events/s  (${(1e9 / full.perSec).toFixed(0)} ns/event, ${full.matches} matches)`);
console.log(`  same, closure-tree conditions      ${(whole.perSec / 1e6).toFixed(2)} M events/s  -> per-type inlined conditions are ${(full.perSec / whole.perSec).toFixed(2)}x faster`);
console.log(`  syscall mix, one rule (floor)      ${(floor.perSec / 1e6).toFixed(2)} M events/s  -> full ruleset costs ${(floor.perSec / full.perSec).toFixed(2)}x the floor`);
console.log(`  k8s audit, k8s_audit_rules.yaml    ${(ka.perSec / 1e6).toFixed(2)} M events/s`);
console.log(`rss ${rss.toFixed(0)} MiB`);
