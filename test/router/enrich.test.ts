import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createEnricher } from '../../src/router/enrich.ts';
import { matchesFilter, type AlertFilter } from '../../src/router/filter.ts';
import { compileTemplate } from '../../src/router/template.ts';
import { parsedAlert } from '../support/alerts.ts';

const alert = parsedAlert;

describe('templates (Go text/template subset)', () => {
  test('fields, index, or, and missing values', () => {
    const ctx = { Rule: 'R', OutputFields: { 'k8s.ns.name': 'prod' } };
    assert.equal(compileTemplate('rule {{ .Rule }} in {{ index .OutputFields "k8s.ns.name" }}', 't')(ctx), 'rule R in prod');
    assert.equal(compileTemplate('{{ or (index . "missing") "none" }}', 't')({}), 'none');
    assert.equal(compileTemplate('{{ or (index . "a") "none" }}', 't')({ a: 'x' }), 'x');
    assert.equal(compileTemplate('{{ .Nope }}', 't')({}), '<no value>');
  });
  test('an unsupported word is an error naming the config key', () => {
    assert.throws(() => compileTemplate('{{ printf "%s" .Rule }}', 'slack.messageformat'), /slack\.messageformat: unsupported template word "printf"/);
    assert.throws(() => compileTemplate('{{ .Rule ', 'templatedfields.x'), /templatedfields\.x: unclosed/);
  });
});

describe('enrichment', () => {
  test('customfields, customtags, templatedfields, sorted unique tags', () => {
    const enrich = createEnricher({
      customfields: { cluster: 'prod-eu' },
      customtags: ['peregrine', 'filesystem'],
      templatedfields: { who: '{{ or (index . "user.name") "nobody" }}' },
      bracketreplacer: '',
    });
    const out = enrich(alert());
    assert.equal(out.output_fields.cluster, 'prod-eu');
    assert.equal(out.output_fields.who, 'root');
    assert.deepEqual(out.tags, ['filesystem', 'mitre_credential_access', 'peregrine']);
  });
  test('bracketreplacer rewrites field names', () => {
    const out = createEnricher({ customfields: {}, customtags: [], templatedfields: {}, bracketreplacer: '_' })(alert());
    assert.equal(out.output_fields['proc.aname_2'], 'bash');
    assert.equal(out.output_fields['proc.aname[2]'], undefined);
  });
});

describe('filters', () => {
  const none: AlertFilter = { minimumpriority: undefined, rules: [], tags: [], sources: [] };
  test('minimum priority', () => {
    assert.ok(matchesFilter(alert({ priority: 'Critical' }), { ...none, minimumpriority: 'error' }));
    assert.ok(!matchesFilter(alert({ priority: 'Warning' }), { ...none, minimumpriority: 'error' }));
  });
  test('rules, tags (any of) and sources', () => {
    const a = alert();
    assert.ok(matchesFilter(a, { ...none, rules: ['Read sensitive file untrusted'] }));
    assert.ok(!matchesFilter(a, { ...none, rules: ['Other'] }));
    assert.ok(matchesFilter(a, { ...none, tags: ['k8s', 'filesystem'] }));
    assert.ok(!matchesFilter(a, { ...none, tags: ['k8s'] }));
    assert.ok(!matchesFilter(a, { ...none, sources: ['k8s_audit'] }));
    assert.ok(matchesFilter(a, { ...none, sources: ['syscall'] }));
  });
  test('the test alert passes every filter, as in Falcosidekick', () => {
    const t = alert({ rule: 'Test rule', priority: 'Debug', source: 'debug', tags: [] });
    assert.ok(matchesFilter(t, { minimumpriority: 'critical', rules: ['x'], tags: ['y'], sources: ['z'] }));
  });
});
