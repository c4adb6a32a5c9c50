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
    assert.throws(() => compileTemplate('{{ eq .Rule "x" }}', 'slack.messageformat'), /slack\.messageformat: unsupported template word "eq"/);
    assert.throws(() => compileTemplate('{{ printf "%e" .Rule }}', 'templatedfields.x'), /templatedfields\.x: printf verb "%e" is not supported/);
    assert.throws(() => compileTemplate('{{ .Rule ', 'templatedfields.x'), /templatedfields\.x: unclosed/);
  });
});

describe('printf and pipelines, as Go prints them', () => {
  const f = { 'k8s.ns.name': 'prod', 'k8s.pod.name': 'web-1', 'proc.pid': 4242, ok: true };
  const t = (src: string) => compileTemplate(src, 't')(f);
  test('verbs %s %v %d %q %x %% and nested calls', () => {
    assert.equal(t('{{ printf "%s/%s" (index . "k8s.ns.name") (index . "k8s.pod.name") }}'), 'prod/web-1');
    assert.equal(t('{{ printf "pid=%d %v %q 100%%" (index . "proc.pid") (index . "ok") (index . "k8s.ns.name") }}'), 'pid=4242 true "prod" 100%');
    assert.equal(t('{{ printf "%x" (index . "proc.pid") }}'), '1092');
    assert.equal(t('{{ printf "%s" (or (index . "nope") "none") }}'), 'none');
  });
  test('a missing value and missing or extra arguments print as Go does', () => {
    assert.equal(t('{{ printf "%s" (index . "nope") }}'), '%!s(<nil>)');
    assert.equal(t('{{ printf "%v" (index . "nope") }}'), '<nil>');
    assert.equal(t('{{ printf "%s %s" "a" }}'), 'a %!s(MISSING)');
    assert.equal(t('{{ printf "%s" "a" "b" }}'), 'a%!(EXTRA b)');
  });
  test('a pipeline passes its value as the last argument', () => {
    assert.equal(t('{{ index . "k8s.ns.name" | printf "ns=%s" }}'), 'ns=prod');
    assert.throws(() => compileTemplate('{{ .Rule | .Other }}', 't'), /only a function can follow "\|"/);
  });
});

describe('enrichment', () => {
  test('customfields, customtags, templatedfields, sorted unique tags', () => {
    const enrich = createEnricher({
      customfields: { cluster: 'prod-eu' },
      customtags: ['peregrine', 'filesystem'],
      templatedfields: { who: '{{ or (index . "user.name") "nobody" }}' },
      bracketreplacer: '', outputfieldformat: '',
    });
    const out = enrich(alert());
    assert.equal(out.output_fields.cluster, 'prod-eu');
    assert.equal(out.output_fields.who, 'root');
    assert.deepEqual(out.tags, ['filesystem', 'mitre_credential_access', 'peregrine']);
  });
  test('templated fields see the custom fields, as in Falcosidekick', () => {
    const out = createEnricher({ customfields: { cluster: 'eu' }, customtags: [], templatedfields: { where: '{{ printf "%s/%s" (index . "cluster") (index . "user.name") }}' }, bracketreplacer: '', outputfieldformat: '' })(alert());
    assert.equal(out.output_fields.where, 'eu/root');
  });
  test('outputfieldformat rewrites Falco\'s text line from its placeholders', () => {
    const enrich = createEnricher({ customfields: { cluster: 'eu' }, customtags: ['x'], templatedfields: { who: '{{ index . "user.name" }}' }, bracketreplacer: '',
      outputfieldformat: '<timestamp>: <priority> <output> (<custom_fields> <templated_fields>) [<tags>]' });
    const out = enrich(alert({ output: '10:20:05.408091526: Warning Sensitive file opened (file=/etc/shadow)', tags: ['b'] }));
    assert.equal(out.output, '10:20:05.408091526: Warning Sensitive file opened (file=/etc/shadow) (cluster=eu who=root) [b,x]');
    // Lines that do not start like Falco's are left alone.
    assert.equal(enrich(alert({ output: 'no timestamp here' })).output, 'no timestamp here');
  });
  test('bracketreplacer rewrites field names', () => {
    const out = createEnricher({ customfields: {}, customtags: [], templatedfields: {}, bracketreplacer: '_', outputfieldformat: '' })(alert());
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
