// fd.ip, fd.port and fd.net hold one value per connection end: libsinsp's `!=` on them is true only when
// both ends differ (compare_ip/compare_port/compare_net), while `=`, `in` and the order operators take either.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCondition } from '../../src/engine/lang/parser.ts';
import { compileCondition, inlineCondition } from '../../src/engine/lang/compile.ts';
import { syscallFields } from '../../src/engine/fields/syscall.ts';
import { syscall } from '../../src/engine/testing/events.ts';

const conn = syscall({ type: 'connect', res: 0, fd: { num: 3, type: 'ipv4', name: '', cip: '10.0.0.5', cport: 40000, sip: '8.8.8.8', sport: 53, l4proto: 'udp' } });

const CASES: Array<[string, boolean]> = [
  ['fd.ip != 10.0.0.5', false],
  ['fd.ip != 1.1.1.1', true],
  ['fd.ip = 10.0.0.5', true],
  ['fd.port != 53', false],
  ['fd.port != 80', true],
  ['fd.port > 50000', false],
  ['fd.port < 100', true],
  ['fd.net != 10.0.0.0/8', false],
  ['fd.net != 192.168.0.0/16', true],
  ['fd.net = 8.0.0.0/8', true],
  ['not fd.net = 10.0.0.0/8', false],
  ['fd.sip != 10.0.0.5', true],
];

test('either-end fields: != needs both ends to differ; closure tree and inlined condition agree', () => {
  for (const [cond, expected] of CASES) {
    const ast = parseCondition(cond);
    assert.equal(compileCondition(ast, syscallFields).matches(conn), expected, cond);
    assert.equal(inlineCondition(ast, syscallFields)(conn), expected, `${cond} (inlined)`);
  }
});

test('a connection without a network descriptor matches neither = nor != on either-end fields', () => {
  const open = syscall({ type: 'openat', res: 3, fd: { num: 3, type: 'file', name: '/tmp/x' } });
  for (const cond of ['fd.ip != 1.1.1.1', 'fd.port != 80', 'fd.net != 10.0.0.0/8', 'fd.ip = 1.1.1.1']) {
    assert.equal(compileCondition(parseCondition(cond), syscallFields).matches(open), false, cond);
  }
});
