// `peregrine validate`, run as a user would: counts on success, file:line:col and exit 1 on a bad rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { falcoPath } from '../support/falco-data.ts';

const BIN = fileURLToPath(new URL('../../bin/peregrine', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'validate', ...args], { encoding: 'utf8' });

test("Falco's stock rules and Peregrine's defaults validate: counts, no warnings", () => {
  const r = run('-r', falcoPath('falco_rules.yaml'), '-r', falcoPath('k8s_audit_rules.yaml'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /73 rules, 132 macros, 67 lists; 73 rules enabled; 0 errors, 0 warnings/);
  const defaults = run('-r', fileURLToPath(new URL('../../config/rules', import.meta.url)));
  assert.equal(defaults.status, 0, defaults.stderr);
  assert.match(defaults.stdout, /: Ok\n/);
});

test('a bad rule: exit 1, the error names file, line, column and the offending token; warnings are printed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'validate-'));
  const file = join(dir, 'rules.yaml');
  writeFileSync(file, [
    '- macro: unused_macro',
    '  condition: proc.name = x',
    '- rule: typo',
    '  desc: d',
    '  condition: evt.type = open and proc.nme = cat',
    '  output: o',
    '  priority: INFO',
    '- rule: syntax',
    '  desc: d',
    '  condition: evt.type = open and (proc.name = cat',
    '  output: o',
    '  priority: INFO',
    '',
  ].join('\n'));
  const r = run('-r', file);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`${file}:5:34: rule 'typo': LOAD_ERR_COMPILE_CONDITION .*nonexistent field proc\\.nme`));
  assert.match(r.stderr, /rule 'syntax': LOAD_ERR_COMPILE_CONDITION .*expected a '\)' token/);
  assert.match(r.stdout, /warning: .*LOAD_UNUSED_MACRO/);
  assert.match(r.stdout, /Invalid/);
});
