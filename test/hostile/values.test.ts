// Finding 7 of issue #14: values that changed without a word. 1e400 became null, 2026-02-30 and 24:00 were
// accepted, an output_fields key "__proto__" disappeared (with an array value it became the object's prototype).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { falcoAlert, postAlert } from '../support/alerts.ts';
import { HttpReceiver } from '../support/http-receiver.ts';
import { startRouter } from '../support/router.ts';

test('out-of-range numbers and impossible times are refused with the key named', async () => {
  const r = await startRouter('');
  try {
    const cases: [string, RegExp][] = [
      [JSON.stringify(falcoAlert()).replace('"proc.pid":4242', '"proc.pid":1e400'), /"output_fields\.proc\.pid": a number is out of range/],
      [JSON.stringify(falcoAlert({ time: '2026-02-30T10:00:00Z' })), /bad "time": "2026-02-30T10:00:00Z"/],
      [JSON.stringify(falcoAlert({ time: '2026-11-22T24:00:00Z' })), /bad "time": "2026-11-22T24:00:00Z"/],
      [JSON.stringify(falcoAlert({ time: '2026-11-22T10:60:00Z' })), /bad "time"/],
      [JSON.stringify(falcoAlert({ time: '2026-11-22T10:20:05+25:00' })), /bad "time"/],
      // Found by the fuzz test (seed 694593843): an integer beyond 2^53 decodes as bigint; the error text must still render.
      [JSON.stringify(falcoAlert({ time: 'T' })).replace('"T"', '12345678901234567890'), /bad "time": 12345678901234567890 is not/],
    ];
    for (const [body, message] of cases) {
      const res = await postAlert(r.url, body);
      assert.equal(res.status, 400, body);
      assert.match(((await res.json()) as { error: string }).error, message);
    }
    assert.equal((await postAlert(r.url, falcoAlert({ time: '2028-02-29T23:59:59.999999999+01:00' }))).status, 200, 'a leap day is a real date');
  } finally {
    await r.router.close({ drainMs: 0 });
  }
});

test('an output field named __proto__ is delivered as a field, whatever its value', async () => {
  const rx = await HttpReceiver.start();
  const r = await startRouter(`webhook: { address: "${rx.url}/" }\nbracketreplacer: "_"\n`);
  try {
    for (const value of ['["a","b"]', '"text"', '7']) {
      const body = JSON.stringify(falcoAlert()).replace('"output_fields":{', `"output_fields":{"__proto__":${value},`);
      assert.equal((await postAlert(r.url, body)).status, 200);
    }
    await rx.waitFor(3);
    const got = rx.requests.map((q) => JSON.parse(q.body).output_fields as Record<string, unknown>);
    assert.deepEqual(got.map((f) => Object.getOwnPropertyDescriptor(f, '__proto__')?.value), [['a', 'b'], 'text', 7]);
    for (const f of got) assert.equal(f['fd.name'], '/etc/shadow');
  } finally {
    await r.router.close({ drainMs: 0 });
    await rx.close();
  }
});
