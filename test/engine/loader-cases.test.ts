// Rule loader semantics: the 71 cases of Falco's own engine unit tests (../shared/falco/rule_loader_cases.json):
// load outcome, compiled conditions, error and warning texts, describe output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadRules, type LoadResult } from '../../src/engine/engine.ts';
import { syscallFields } from '../../src/engine/fields/syscall.ts';
import { k8sAuditFields } from '../../src/engine/fields/k8s_audit.ts';
import { falcoPath } from '../support/falco-data.ts';

interface Step {
  op: string;
  content?: string;
  filename?: string;
  expect_ok?: boolean;
  rule?: string;
  expected?: unknown;
  message?: string;
  path?: string;
  value?: unknown;
  size?: number;
}
const cases: Array<{ test: string; source: string; steps: Step[] }> = JSON.parse(readFileSync(falcoPath('rule_loader_cases.json'), 'utf8'));

/** `["rules"][0]["info"]["condition"]` → walk the describe object. */
function walk(obj: unknown, path: string): unknown {
  const keys = [...path.matchAll(/\[("([^"]*)"|(\d+))\]/g)].map((m) => (m[3] !== undefined ? Number(m[3]) : m[2]!));
  return keys.reduce<any>((o, k) => (o === undefined ? undefined : o[k]), obj);
}

test('the loader cases are all there', () => {
  assert.equal(cases.length, 71);
});

for (const c of cases) {
  test(`loader case ${c.test}`, () => {
    let result: LoadResult | undefined;
    for (const step of c.steps) {
      const where = `${c.test} (${c.source}) ${step.op}`;
      if (step.op === 'load') {
        result = loadRules([{ name: step.filename!, content: step.content! }], { tables: [syscallFields, k8sAuditFields] });
        assert.equal(result.errors.length === 0, step.expect_ok, `${where}: errors ${JSON.stringify(result.errors.map((e) => e.message))}`);
        continue;
      }
      const r = result!;
      const messages = (list: typeof r.errors) => list.map((d) => d.message);
      switch (step.op) {
        case 'schema':
          break; // JSON-schema validation of the YAML is a Falco tooling feature outside the engine
        case 'compiled_condition': {
          const rule = r.engine.describe().rules.find((x) => x.info.name === step.rule);
          assert.equal(rule?.details.condition_compiled, step.expected, where);
          break;
        }
        case 'error_contains':
          assert.equal(messages(r.errors).some((m) => m.includes(step.message!)), step.expected, `${where}: ${JSON.stringify(messages(r.errors))}`);
          break;
        case 'warning_contains':
          assert.equal(messages(r.warnings).some((m) => m.includes(step.message!)), step.expected, `${where}: ${JSON.stringify(messages(r.warnings))}`);
          break;
        case 'has_warnings':
          assert.equal(r.warnings.length > 0, step.expected, `${where}: ${JSON.stringify(messages(r.warnings))}`);
          break;
        case 'describe': {
          const v = walk(r.engine.describe(), step.path!);
          if (step.size !== undefined) assert.equal((v as unknown[]).length, step.size, where);
          else assert.deepEqual(v, step.value, where);
          break;
        }
        default:
          assert.fail(`${where}: unknown step`);
      }
    }
  });
}
