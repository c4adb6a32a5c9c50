import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDropAlerter } from '../../src/pipeline/drop-alert.ts';

test('no drops, no alert', () => {
  const a = createDropAlerter({ intervalMs: 30_000, hostname: 'h', now: () => 1_000 });
  assert.equal(a.check({ ringbuf_full: 0 }), undefined);
  assert.equal(a.check({}), undefined);
});

test('drops raise one Debug internal alert per interval, carrying the count of every drop since the last alert', () => {
  let t = 1_700_000_000_000;
  const a = createDropAlerter({ intervalMs: 30_000, hostname: 'node-1', now: () => t });
  const first = a.check({ ringbuf_full: 5, read_failed: 0 });
  assert.ok(first);
  assert.equal(first.rule, 'Falco internal: syscall event drop');
  assert.equal(first.priority, 'Debug');
  assert.equal(first.source, 'internal');
  assert.equal(first.hostname, 'node-1');
  assert.equal(first.output, 'Falco internal: syscall event drop. 5 system calls dropped since the last report.');
  assert.deepEqual(first.output_fields, { n_drops: 5, n_drops_ringbuf_full: 5 });
  assert.match(String(first.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);

  t += 1_000;
  assert.equal(a.check({ ringbuf_full: 12 }), undefined, 'within the interval: held back');
  t += 29_500;
  const second = a.check({ ringbuf_full: 12 });
  assert.ok(second, 'the held-back drops are reported once the interval has passed');
  assert.deepEqual(second.output_fields, { n_drops: 7, n_drops_ringbuf_full: 7 });
});
