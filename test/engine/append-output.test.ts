// Falco's append_output as the rule loader applies it: the container plugin's suggested fields are appended to
// every syscall rule's output by default; selections by source, tags and rule; %container.info is retired.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRules, type LoadOptions } from '../../src/engine/engine.ts';
import { compileOutputFormat } from '../../src/engine/format.ts';
import { syscallFields } from '../../src/engine/fields/syscall.ts';
import { k8sAuditFields } from '../../src/engine/fields/k8s_audit.ts';
import { loadRuleFiles } from '../../src/engine/rules-files.ts';
import { exec } from '../../src/engine/testing/events.ts';
import { falcoPath } from '../support/falco-data.ts';

const SUGGESTED = 'container_id=%container.id container_name=%container.name container_image_repository=%container.image.repository '
  + 'container_image_tag=%container.image.tag k8s_pod_name=%k8s.pod.name k8s_ns_name=%k8s.ns.name';

const RULES = `
- rule: shell
  desc: d
  condition: evt.type = execve and proc.name = sh
  output: shell %proc.name
  priority: INFO
  tags: [a, b]
- rule: audit
  desc: d
  condition: ka.verb = create
  output: audit %ka.verb
  priority: INFO
  source: k8s_audit
`;

function outputs(appendOutput: LoadOptions['appendOutput'], rules = RULES) {
  const r = loadRules([{ name: 'r.yaml', content: rules }], { tables: [syscallFields, k8sAuditFields], compileOutput: compileOutputFormat, ...(appendOutput ? { appendOutput } : {}) });
  assert.deepEqual(r.errors, []);
  return { outputs: Object.fromEntries(r.engine.rules.map((x) => [x.name, x.output])), engine: r.engine, warnings: r.warnings };
}

test('suggested output: the container plugin\'s six fields, after the rule\'s own output, on syscall rules only', () => {
  const { outputs: o, engine } = outputs([{ suggestedOutput: true }]);
  assert.equal(o.shell, `shell %proc.name ${SUGGESTED}`);
  assert.equal(o.audit, 'audit %ka.verb');
  const rule = engine.rules.find((r) => r.name === 'shell')!;
  const out = rule.format!(exec({ comm: 'sh' }));
  assert.equal(out.text, 'shell sh container_id=host container_name=host container_image_repository= container_image_tag= k8s_pod_name=<NA> k8s_ns_name=<NA>');
  assert.equal(out.fields['container.id'], 'host');
  assert.equal(out.fields['k8s.ns.name'], null);
});

test('append_output entries select by source, by tags the rule carries (all of them) and by rule name', () => {
  assert.deepEqual(outputs([{ format: 'X=%evt.num', source: 'syscall' }]).outputs, { shell: 'shell %proc.name X=%evt.num', audit: 'audit %ka.verb' });
  assert.deepEqual(outputs([{ format: 'T', tags: ['a', 'b'] }]).outputs, { shell: 'shell %proc.name T', audit: 'audit %ka.verb' });
  assert.deepEqual(outputs([{ format: 'T', tags: ['a', 'c'] }]).outputs, { shell: 'shell %proc.name', audit: 'audit %ka.verb' });
  assert.deepEqual(outputs([{ format: 'R', rule: 'audit' }]).outputs, { shell: 'shell %proc.name', audit: 'audit %ka.verb R' });
  assert.deepEqual(outputs([]).outputs, { shell: 'shell %proc.name', audit: 'audit %ka.verb' });
});

test('%container.info is dropped from outputs with Falco\'s deprecation warning', () => {
  const { outputs: o, warnings } = outputs([], RULES.replace('output: shell %proc.name', 'output: shell %proc.name %container.info'));
  assert.equal(o.shell, 'shell %proc.name ');
  assert.deepEqual(warnings.map((w) => `${w.code} ${w.message}`), [
    'LOAD_DEPRECATED_ITEM %container.info is deprecated and no more useful, and will be dropped by Falco 1.0.0. The container plugin will automatically add required fields to the output message.',
  ]);
});

test('peregrine run/validate load falco_rules.yaml with the suggested fields appended (Falco\'s default), or without', () => {
  const withSuggested = loadRuleFiles([falcoPath('falco_rules.yaml')]);
  assert.deepEqual(withSuggested.errors, []);
  for (const r of withSuggested.engine.rules.filter((x) => x.source === 'syscall')) assert.ok(r.output.endsWith(` ${SUGGESTED}`), r.name);
  const without = loadRuleFiles([falcoPath('falco_rules.yaml')], { suggestedOutput: false });
  for (const r of without.engine.rules) assert.ok(!r.output.includes('container_id='), r.name);
});
