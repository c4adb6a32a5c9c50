// `peregrine run` end to end for the Kubernetes audit source: the real CLI process loads Falco's stock rules
// files plus Peregrine's defaults, the API server's audit webhook traffic is POSTed to /k8s-audit, and the
// alerts come out on stdout (Falco JSON) and at a real HTTP webhook receiver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startDetector } from '../support/detector.ts';
import { HttpReceiver } from '../support/http-receiver.ts';
import { eventually } from '../support/eventually.ts';
import { falcoPath } from '../support/falco-data.ts';

function sample(name: string): string {
  return readFileSync(falcoPath('k8s_audit_samples', name), 'utf8').trim();
}

test('audit events posted to /k8s-audit raise Falco alerts on stdout and at the webhook output', async () => {
  const hook = await HttpReceiver.start();
  const det = await startDetector({
    config: `webhook:\n  address: ${hook.url}/alerts\ndetector:\n  jsonoutput: true\n  rulematching: all\n  capture:\n    enabled: false\n`,
    rules: [falcoPath('falco_rules.yaml'), falcoPath('k8s_audit_rules.yaml')],
  });
  try {
    assert.match(det.captureOff ?? '', /disabled by configuration/);
    // One body per API server batch: an EventList of two events (a privileged pod, an exec into a pod).
    const items = [sample('create_nginx_pod_privileged.json'), sample('exec_pod.json')].map((t) => JSON.parse(t.split('\n')[0]!));
    const res = await fetch(`${det.url}/k8s-audit`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items }),
    });
    assert.equal(res.status, 200);
    const reply = await res.json() as { events: number; alerts: number };
    assert.equal(reply.events, 2);
    await eventually(() => {
      const rules = det.alerts.map((a) => a.rule);
      assert.ok(rules.includes('Create Privileged Pod'), JSON.stringify(rules));
      assert.ok(rules.includes('Attach/Exec Pod'), JSON.stringify(rules));
    }, 10_000);
    const privileged = det.alerts.find((a) => a.rule === 'Create Privileged Pod')!;
    assert.equal(privileged.source, 'k8s_audit');
    assert.equal(privileged.priority, 'Warning');
    assert.match(String(privileged.output), /Warning Pod started with privileged container/);
    assert.match(String(privileged.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    assert.equal((privileged.output_fields as Record<string, unknown>)['ka.user.name'], 'system:serviceaccount:kube-system:replicaset-controller');
    // The same alerts reach the configured output through the router.
    await eventually(() => {
      const delivered = hook.requests.map((r) => JSON.parse(r.body).rule);
      assert.ok(delivered.includes('Create Privileged Pod') && delivered.includes('Attach/Exec Pod'), JSON.stringify(delivered));
    }, 10_000);
    // A body that is not audit JSON is refused with a reason; the detector keeps running.
    const bad = await fetch(`${det.url}/k8s-audit`, { method: 'POST', body: 'not json' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /not JSON/);
    const metrics = await (await fetch(`${det.url}/metrics`)).text();
    assert.match(metrics, /peregrine_events_total\{source="k8s_audit"\} 2/);
    assert.match(metrics, /peregrine_alerts_total\{rule="Create Privileged Pod",priority="Warning",source="k8s_audit"\} 1/);
  } finally {
    assert.equal(await det.stop(), 0);
    await hook.close();
  }
});

test('a rules file with a bad rule: the error names file, line and column; the other rules still run', async () => {
  const det = await startDetector({
    config: 'detector:\n  jsonoutput: true\n  defaultrules: false\n  capture:\n    enabled: false\n',
    rules: [falcoPath('k8s_audit_samples', 'test_rules', 'engine_v4_k8s_audit_rules.yaml')],
  });
  try {
    const err = det.logs.find((l) => l.code === 'LOAD_ERR_COMPILE_CONDITION');
    assert.ok(err, 'the bad rule is reported');
    assert.match(String(err.msg), /engine_v4_k8s_audit_rules\.yaml:\d+:\d+: rule 'ClusterRole With Pod Exec Created'.*'contains' operator not supported list filters/);
    const res = await fetch(`${det.url}/k8s-audit`, { method: 'POST', body: sample('create_nginx_pod_privileged.json').split('\n')[0] });
    assert.equal(res.status, 200);
    await eventually(() => assert.ok(det.alerts.some((a) => a.rule === 'Create Privileged Pod')), 10_000);
  } finally {
    assert.equal(await det.stop(), 0);
  }
});
