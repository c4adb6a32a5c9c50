import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAuditBody, rfc3339ToNs } from '../../src/k8saudit/parse.ts';

const ev = (stamp: string) => ({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', verb: 'create', stageTimestamp: stamp });

test('stageTimestamp keeps nanoseconds', () => {
  assert.equal(rfc3339ToNs('1970-01-01T00:00:01.000000123Z'), 1_000_000_123n);
});

test('EventList, single Event and bare array all parse', () => {
  const list = parseAuditBody(JSON.stringify({ kind: 'EventList', items: [ev('2019-01-01T00:00:00Z'), ev('2019-01-01T00:00:01Z')] }));
  assert.equal(list.events.length, 2);
  assert.deepEqual(list.events.map((e) => e.num), [1, 2]);
  assert.equal(parseAuditBody(JSON.stringify(ev('2019-01-01T00:00:00Z'))).events.length, 1);
  assert.equal(parseAuditBody(JSON.stringify([ev('2019-01-01T00:00:00Z')])).events.length, 1);
});

test('a bad item is rejected with its index while good ones are kept', () => {
  const r = parseAuditBody(JSON.stringify([ev('2019-01-01T00:00:00Z'), { kind: 'Event' }, ev('nope')]));
  assert.equal(r.events.length, 1);
  assert.equal(r.errors.length, 2);
  assert.match(r.errors[0]!.message, /audit item 1: stageTimestamp is missing/);
  assert.match(r.errors[1]!.message, /audit item 2: .*not RFC 3339/);
  assert.equal(r.errors[0]!.code, 'K8S_AUDIT_BAD_ITEM');
});

test('non-JSON body gives a clear error', () => {
  const r = parseAuditBody('{');
  assert.equal(r.events.length, 0);
  assert.equal(r.errors[0]!.code, 'K8S_AUDIT_BAD_JSON');
});
