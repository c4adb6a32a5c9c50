// Falco's k8s audit regression cases through the real CLI: for each set of rules files a case uses, one
// `peregrine run` loads them, every trace is POSTed to /k8s-audit one Event per request (as the API server's
// webhook backend sends them), and the alerts it prints are counted per rule for that case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDetector } from '../support/detector.ts';
import { eventually } from '../support/eventually.ts';
import { AUDIT_CASES, AUDIT_CASES_DRIFTED, auditRulesPath, auditTraceLines, checkAuditCounts, type AuditCase } from '../support/k8s-audit-cases.ts';

const drifted = new Set(AUDIT_CASES_DRIFTED.map((d) => d.split(':')[0]!));
const groups = new Map<string, AuditCase[]>();
for (const c of AUDIT_CASES) {
  if (drifted.has(c.test)) continue;
  const key = c.rules_files.join(',');
  groups.set(key, [...(groups.get(key) ?? []), c]);
}

test('the cases checked here are all but the drifted ones', () => {
  const checked = [...groups.values()].reduce((n, g) => n + g.length, 0);
  assert.equal(checked, AUDIT_CASES.length - AUDIT_CASES_DRIFTED.length);
  assert.equal(checked, 54);
});

for (const [rulesKey, cases] of groups) {
  test(`audit endpoint with ${rulesKey}: ${cases.length} case(s)`, async () => {
    const det = await startDetector({
      config: 'detector:\n  jsonoutput: true\n  defaultrules: false\n  capture:\n    enabled: false\n',
      rules: rulesKey.split(',').map(auditRulesPath),
    });
    try {
      const failures: string[] = [];
      for (const c of cases) {
        const before = det.alerts.length;
        let raised = 0;
        let refused = 0;
        for (const trace of c.trace_files) {
          for (const line of auditTraceLines(trace)) {
            const res = await fetch(`${det.url}/k8s-audit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: line });
            const reply = await res.json() as { alerts?: number; error?: string };
            if (res.status === 200) raised += reply.alerts ?? 0;
            else if (res.status === 400) refused++;
            else failures.push(`${c.test}: HTTP ${res.status} ${JSON.stringify(reply)}`);
          }
        }
        if (c.stderr_contains) {
          // Not an audit event: refused with a reason, nothing raised.
          if (refused === 0 || raised !== 0) failures.push(`${c.test}: a non-audit body must be refused (refused ${refused}, alerts ${raised})`);
          continue;
        }
        await eventually(() => assert.ok(det.alerts.length >= before + raised, `${c.test}: ${det.alerts.length - before} of ${raised} alerts printed`), 10_000);
        const counts: Record<string, number> = {};
        for (const a of det.alerts.slice(before)) counts[String(a.rule)] = (counts[String(a.rule)] ?? 0) + 1;
        const failure = checkAuditCounts(c, counts);
        if (failure) failures.push(`${c.test}: ${failure}`);
      }
      assert.deepEqual(failures, []);
    } finally {
      assert.equal(await det.stop(), 0);
    }
  });
}
