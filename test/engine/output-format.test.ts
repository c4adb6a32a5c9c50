// Rule output strings: %field substitution, <NA>, widths, and the time fields' text as Falco prints them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileOutputFormat } from '../../src/engine/format.ts';
import { syscallFields, localTime } from '../../src/engine/fields/syscall.ts';
import { openFile, syscall } from '../../src/engine/testing/events.ts';

test('%evt.time prints local HH:MM:SS.nnnnnnnnn and %evt.time.iso8601 the UTC date; output_fields keep the ns number exactly', () => {
  const ts = 1_700_000_000_123_456_789n;
  const e = syscall({ type: 'openat', ts });
  const out = compileOutputFormat('at %evt.time / %evt.time.iso8601', syscallFields)(e);
  const d = new Date(Number(ts / 1_000_000n));
  const hms = [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  assert.equal(out.text, `at ${hms}.123456789 / 2023-11-14T22:13:20.123456789+0000`);
  assert.equal(localTime(ts), `${hms}.123456789`);
  // Beyond 2^53: a bigint, so the alert JSON carries 1700000000123456789 and not …6800.
  assert.deepEqual(out.fields, { 'evt.time': 1_700_000_000_123_456_789n, 'evt.time.iso8601': 1_700_000_000_123_456_789n });
});

test('%field[arg], %Nfield widths and <NA> for a missing value', () => {
  const e = openFile('/etc/shadow', 0, { comm: 'cat', ancestors: ['bash', 'sshd'] });
  const out = compileOutputFormat('%fd.name %proc.aname[2] [%6proc.name] %container.id %fd.sip', syscallFields)(e);
  assert.equal(out.text, '/etc/shadow sshd [cat   ] host <NA>');
  assert.equal(out.fields['fd.sip'], null);
});
