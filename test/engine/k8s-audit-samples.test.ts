// The Kubernetes audit source end to end at the engine level: Falco's k8s audit regression cases
// (../shared/falco/k8s_audit_samples/expected_detections.json) with Falco's stock rules files and the test-only
// rule files, replaying each trace and counting alerts per rule (rule_matching: first, Falco's default).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRules } from '../../src/engine/engine.ts';
import { syscallFields } from '../../src/engine/fields/syscall.ts';
import { k8sAuditFields } from '../../src/engine/fields/k8s_audit.ts';
import { compileOutputFormat } from '../../src/engine/format.ts';
import { parseAuditBody } from '../../src/k8saudit/parse.ts';
import { AUDIT_CASES, AUDIT_CASES_DRIFTED, AUDIT_RULES_DRIFT, auditRulesPath, auditTraceLines, checkAuditCounts, type AuditCase } from '../support/k8s-audit-cases.ts';

interface Replay {
  counts: Record<string, number>;
  parseErrors: number;
  loaded: Set<string>;
  /** Why the case cannot be checked against today's rules, if it cannot. */
  inapplicable?: string;
}

function replay(c: AuditCase): Replay {
  const { engine, errors } = loadRules(c.rules_files.map((f) => ({ name: auditRulesPath(f) })), {
    tables: [syscallFields, k8sAuditFields], ruleMatching: 'first', compileOutput: compileOutputFormat,
  });
  const unexpected = errors.filter((e) => !AUDIT_RULES_DRIFT.some((d) => e.file.endsWith(d.file) && e.message.includes(d.message)));
  assert.deepEqual(unexpected.map((e) => `${e.file}:${e.line}: ${e.message}`), [], `${c.test}: rules must load`);
  const loaded = new Set(engine.rules.map((r) => r.name));
  const counts: Record<string, number> = {};
  let parseErrors = 0;
  for (const trace of c.trace_files) {
    for (const line of auditTraceLines(trace)) {
      const parsed = parseAuditBody(line);
      parseErrors += parsed.errors.length;
      for (const event of parsed.events) {
        for (const rule of engine.evaluate(event)) {
          rule.format!(event); // every matching rule's output must render
          counts[rule.name] = (counts[rule.name] ?? 0) + 1;
        }
      }
    }
  }
  const result: Replay = { counts, parseErrors, loaded };
  const missing = Object.keys(c.detect_counts).filter((r) => !loaded.has(r));
  if (missing.length) result.inapplicable = `rules renamed or removed since 2023: ${missing.join(', ')}`;
  else if (errors.some((e) => e.file.endsWith('trust_nginx_container.yaml'))) result.inapplicable = 'trust_nginx_container.yaml appends to lists that no longer exist';
  return result;
}

const inapplicable: string[] = [];

for (const c of AUDIT_CASES) {
  test(`k8s audit case ${c.test}: ${c.detect ? JSON.stringify(c.detect_counts) : 'no expected detection'}`, () => {
    const r = replay(c);
    if (c.stderr_contains) {
      assert.ok(r.parseErrors > 0, 'the trace is not a k8s audit event and must be reported as such');
      return;
    }
    if (r.inapplicable) {
      inapplicable.push(`${c.test}: ${r.inapplicable}`);
      return;
    }
    assert.equal(checkAuditCounts(c, r.counts), undefined);
  });
}

test('only the cases that drifted from today\'s rules are left unchecked', () => {
  assert.deepEqual(inapplicable.sort(), AUDIT_CASES_DRIFTED);
});
