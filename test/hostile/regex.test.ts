// Finding 4 (regex) of issue #14: `regex` ran on a backtracking engine; "(a+)+$" against 30 a's and a "!" blocked
// the event loop 13.8 s. Falco's regex is RE2: RE2 syntax, whole-value match, linear time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRules } from '../../src/engine/engine.ts';
import { k8sAuditFields } from '../../src/engine/fields/k8s_audit.ts';
import { syscallFields } from '../../src/engine/fields/syscall.ts';
import type { K8sAuditEvent } from '../../src/engine/event.ts';

function engineFor(condition: string) {
  const content = `- rule: r\n  desc: d\n  condition: ${condition}\n  output: o\n  priority: WARNING\n  source: k8s_audit\n`;
  const r = loadRules([{ name: 'regex.yaml', content }], { tables: [syscallFields, k8sAuditFields] });
  return r;
}

const event = (user: string): K8sAuditEvent => ({ source: 'k8s_audit', num: 1, ts: 0n, raw: { user: { username: user } } });

test('a catastrophic-backtracking pattern runs in linear time', () => {
  const { engine, errors } = engineFor('ka.user.name regex "(a+)+$"');
  assert.deepEqual(errors, []);
  const t0 = performance.now();
  assert.equal(engine.evaluate(event(`${'a'.repeat(30)}!`)).length, 0);
  assert.equal(engine.evaluate(event(`${'a'.repeat(100_000)}!`)).length, 0);
  const ms = performance.now() - t0;
  assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
  assert.equal(engine.evaluate(event('aaaa')).length, 1);
});

test('RE2 syntax and whole-value matching, as libsinsp', () => {
  const cases: [string, string, boolean][] = [
    ['[[:alpha:]]+', 'admin', true], // POSIX class: JS RegExp reads this as a different class
    ['[[:alpha:]]+', 'admin1', false],
    ['(?i)ADMIN', 'admin', true], // inline flag: a syntax error in JS RegExp
    ['adm', 'admin', false], // the whole value must match
    ['adm.*|root', 'root', true],
    ['\\pL+', 'système', true],
  ];
  for (const [pattern, user, matches] of cases) {
    const { engine, errors } = engineFor(`ka.user.name regex "${pattern.replace(/\\/g, '\\\\')}"`);
    assert.deepEqual(errors.map((e) => e.message), [], pattern);
    assert.equal(engine.evaluate(event(user)).length, matches ? 1 : 0, `${pattern} against ${user}`);
  }
});

test('patterns RE2 refuses (backreferences, lookahead) are errors naming the rule', () => {
  for (const pattern of ['(a)\\\\1', '(?=a)a']) {
    const { errors } = engineFor(`ka.user.name regex "${pattern}"`);
    assert.equal(errors.length, 1, pattern);
    assert.equal(errors[0]!.item?.name, 'r');
    assert.match(errors[0]!.message, /invalid regex/);
  }
});
