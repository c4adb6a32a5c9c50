import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { readFileSync } from 'node:fs';
import { k8sAuditHandler } from '../../src/pipeline/k8s-audit-route.ts';
import { silentLogger } from '../../src/log.ts';
import { falcoPath } from '../support/falco-data.ts';

const body = Buffer.from(readFileSync(falcoPath('k8s_audit_samples', 'exec_pod.json'), 'utf8').trim().split('\n')[0]!);
const req = {} as IncomingMessage;

test('/k8s-audit answers 200 only when every alert it raised was spooled', async () => {
  const ok = k8sAuditHandler({ process: async (events) => ({ alerts: events.length, refused: 0 }), log: silentLogger });
  assert.equal((await ok(req, body)).status, 200);
});

test('/k8s-audit answers 503 with Retry-After when an alert could not be spooled, so the API server sends the batch again', async () => {
  const full = k8sAuditHandler({ process: async () => ({ alerts: 2, refused: 1 }), log: silentLogger });
  const out = await full(req, body);
  assert.equal(out.status, 503);
  assert.equal(out.headers?.['retry-after'], '5');
  assert.match(String((out.body as { error: string }).error), /1 of 2 alerts could not be spooled/);
});
