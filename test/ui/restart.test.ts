// The UI store behind the spool, in the real CLI process: alerts acknowledged before a kill -9 are in the
// UI after the restart, each once (the spool redelivers at least once; the store keeps one per uuid).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { falcoAlert, postAlert } from '../support/alerts.ts';
import { eventually } from '../support/eventually.ts';
import { RouteProcess } from '../support/route-process.ts';

test('kill -9 right after the last 200: every acknowledged alert is in the UI after restart, once', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'peregrine-ui-restart-'));
  const cfg = join(dir, 'config.yaml');
  writeFileSync(cfg, 'listenaddress: 127.0.0.1\nlistenport: 0\n');
  let p = await RouteProcess.start(cfg);
  try {
    const acked: string[] = [];
    for (let i = 0; i < 300; i++) {
      const r = await postAlert(p.url, falcoAlert({ time: new Date().toISOString(), output: `restart probe number${i}`, output_fields: { n: i } }));
      assert.equal(r.status, 200);
      acked.push(((await r.json()) as { uuid: string }).uuid);
    }
    await p.kill9();
    p = await RouteProcess.start(cfg);
    await eventually(async () => {
      const res = await fetch(`${p.url}/api/v1/counts?by=priority`);
      assert.equal(((await res.json()) as { total: number }).total, 300);
    }, 30_000);
    const res = await fetch(`${p.url}/api/v1/export?format=ndjson`);
    const uuids = (await res.text()).trim().split('\n').map((l) => (JSON.parse(l) as { uuid: string }).uuid);
    assert.deepEqual(new Set(uuids), new Set(acked));
    assert.equal(uuids.length, 300, 'no alert twice');
  } finally {
    await p.kill9();
    rmSync(dir, { recursive: true, force: true });
  }
});
