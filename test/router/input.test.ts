import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { atLeast, parsePriority, priorityRank, PRIORITIES } from '../../src/alert/priority.ts';
import { parseAlert } from '../../src/router/input.ts';
import { falcoAlert } from '../support/alerts.ts';

describe('priorities', () => {
  test('order emergency > alert > critical > error > warning > notice > informational > debug', () => {
    const order = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'informational', 'debug'] as const;
    for (let i = 0; i + 1 < order.length; i++) assert.ok(priorityRank(order[i]!) > priorityRank(order[i + 1]!), `${order[i]} > ${order[i + 1]}`);
    assert.equal(PRIORITIES.length, 8);
  });
  test('parsing is case-insensitive and accepts info', () => {
    assert.equal(parsePriority('CRITICAL'), 'critical');
    assert.equal(parsePriority('Info'), 'informational');
    assert.equal(parsePriority('warn'), undefined);
  });
  test('inherited object keys are not priorities', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf']) {
      assert.equal(parsePriority(name), undefined, name);
    }
  });
  test('atLeast compares by rank', () => {
    assert.ok(atLeast('critical', 'warning'));
    assert.ok(atLeast('warning', 'warning'));
    assert.ok(!atLeast('notice', 'warning'));
  });
});

describe('parseAlert', () => {
  test('accepts a Falco alert, keeps nanosecond time, assigns a uuid', () => {
    const r = parseAlert(falcoAlert());
    assert.ok(r.ok);
    assert.equal(r.alert.priority, 'warning');
    assert.equal(r.alert.time, '2026-11-22T10:20:05.408091526Z');
    assert.match(r.alert.uuid, /^[0-9a-f-]{36}$/);
    assert.equal(r.alert.output_fields['proc.pid'], 4242);
  });
  test('source defaults to syscalls, tags to []', () => {
    const r = parseAlert(falcoAlert({ source: undefined, tags: undefined }));
    assert.ok(r.ok);
    assert.equal(r.alert.source, 'syscalls');
    assert.deepEqual(r.alert.tags, []);
  });
  test('output_fields values may be strings, numbers, booleans or null', () => {
    const r = parseAlert(falcoAlert({ output_fields: { a: 's', b: 1, c: true, d: null } }));
    assert.ok(r.ok);
    assert.deepEqual(r.alert.output_fields, { a: 's', b: 1, c: true, d: null });
  });
  test('nested objects and lists in output_fields are kept as sent, as Falcosidekick passes them through', () => {
    const fields = { 'k8s.pod.labels': { app: 'web', tier: { name: 'front' } }, list: [{ a: 1 }, 'x', null], n: 1470327477881781397n };
    const r = parseAlert(falcoAlert({ output_fields: fields }));
    assert.ok(r.ok);
    assert.deepEqual(r.alert.output_fields, fields);
  });
  test('the test rule\'s source is "internal", as in Falcosidekick', () => {
    const r = parseAlert(falcoAlert({ rule: 'Test rule', source: 'debug' }));
    assert.ok(r.ok);
    assert.equal(r.alert.source, 'internal');
  });
  const bad: [string, Record<string, unknown> | unknown, RegExp][] = [
    ['missing rule', falcoAlert({ rule: undefined }), /missing "rule"/],
    ['empty rule', falcoAlert({ rule: '' }), /missing "rule"/],
    ['unknown priority', falcoAlert({ priority: 'Severe' }), /unknown priority "Severe"/],
    ['bad time', falcoAlert({ time: 'yesterday' }), /bad "time"/],
    ['time without zone', falcoAlert({ time: '2026-11-22T10:20:05' }), /bad "time"/],
    ['output_fields not an object', falcoAlert({ output_fields: [1] }), /"output_fields" must be an object/],
    ['a number beyond a double (1e400), nested', falcoAlert({ output_fields: { x: { y: [1, Infinity] } } }), /"output_fields\.x\.y\.1": a number is out of range/],
    ['tags not strings', falcoAlert({ tags: [1] }), /"tags"/],
    ['array body', [falcoAlert()], /JSON object/],
  ];
  for (const [name, body, message] of bad) {
    test(`rejects ${name} with a message naming it`, () => {
      const r = parseAlert(body);
      assert.equal(r.ok, false);
      assert.match((r as { error: string }).error, message);
    });
  }
});
