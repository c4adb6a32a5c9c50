// Rules of one event type run behind one generated dispatch function: order and first/all must hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstMatchFrom } from '../../src/engine/dispatch.ts';
import { loadRules } from '../../src/engine/engine.ts';
import { syscallFields } from '../../src/engine/fields/syscall.ts';
import { openFile } from '../../src/engine/testing/events.ts';

test('firstMatchFrom: index of the first matching condition at or after from, -1 when none', () => {
  const next = firstMatchFrom([(n: number) => n > 10, (n: number) => n > 5, () => false, (n: number) => n > 1]);
  assert.equal(next(20, 0), 0);
  assert.equal(next(20, 1), 1);
  assert.equal(next(20, 2), 3);
  assert.equal(next(7, 0), 1);
  assert.equal(next(2, 0), 3);
  assert.equal(next(0, 0), -1);
  assert.equal(next(20, 4), -1);
  assert.equal(firstMatchFrom([])(1, 0), -1);
});

const RULES = ['a', 'b', 'c', 'd'].map((name, i) => `- rule: ${name}\n  desc: d\n  condition: evt.type = openat and fd.name ${i === 1 ? '!=' : '='} /etc/shadow${i === 3 ? ' or evt.type = connect' : ''}\n  output: o\n  priority: INFO\n`).join('');

test('rule_matching first and all over the dispatched rules: position order, every match with all', () => {
  const load = (ruleMatching: 'first' | 'all') => loadRules([{ name: 'r.yaml', content: RULES }], { tables: [syscallFields], ruleMatching }).engine;
  const all = load('all');
  const first = load('first');
  const shadow = openFile('/etc/shadow', 0);
  const other = openFile('/tmp/x', 0);
  assert.deepEqual(all.evaluate(shadow).map((r) => r.name), ['a', 'c', 'd']);
  assert.deepEqual(all.evaluate(other).map((r) => r.name), ['b']);
  assert.deepEqual(first.evaluate(shadow).map((r) => r.name), ['a']);
  assert.deepEqual(first.evaluate(other).map((r) => r.name), ['b']);
});
