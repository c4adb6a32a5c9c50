// Which rules `peregrine run` loads, as Falco decides it: -r replaces the configured rules files, a configured
// list replaces the defaults, and the shipped defaults run only when no rules are given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_RULES_DIR, selectRuleFiles } from '../../src/engine/rules-files.ts';
import { startDetector } from '../support/detector.ts';

test('selectRuleFiles: -r wins over the configured list, which wins over the defaults', () => {
  assert.deepEqual(selectRuleFiles({ cli: ['a.yaml', 'b.yaml'], configured: ['c.yaml'], defaultRules: true }), ['a.yaml', 'b.yaml']);
  assert.deepEqual(selectRuleFiles({ cli: [], configured: ['c.yaml'], defaultRules: true }), ['c.yaml']);
  assert.deepEqual(selectRuleFiles({ cli: [], configured: [], defaultRules: true }), [DEFAULT_RULES_DIR]);
  assert.deepEqual(selectRuleFiles({ cli: [], configured: [], defaultRules: false }), []);
  assert.deepEqual(selectRuleFiles({ cli: ['a.yaml'], configured: [], defaultRules: false }), ['a.yaml']);
});

test('peregrine run: the rules loaded with -r, with detector.rulesfiles, and with neither', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'peregrine-rules-'));
  const rule = (name: string) => `- rule: ${name}\n  desc: d\n  condition: evt.type = execve and proc.name = ${name}\n  output: o\n  priority: INFO\n`;
  const mine = join(dir, 'mine.yaml');
  const configured = join(dir, 'configured.yaml');
  writeFileSync(mine, rule('mine'));
  writeFileSync(configured, rule('configured'));
  const base = 'detector:\n  capture:\n    enabled: false\n';
  const loadedFiles = async (config: string, rules?: string[]) => {
    const det = await startDetector({ config, ...(rules ? { rules } : {}) });
    try {
      const rec = det.logs.find((l) => l.msg === 'rules loaded');
      assert.ok(rec, 'the rules-loaded line');
      return rec.files as string[];
    } finally {
      assert.equal(await det.stop(), 0);
    }
  };
  try {
    const withConfigured = `${base}  rulesfiles: [${JSON.stringify(configured)}]\n`;
    assert.deepEqual(await loadedFiles(withConfigured, [mine]), [mine], '-r replaces the configured list and the defaults');
    assert.deepEqual(await loadedFiles(withConfigured), [configured], 'the configured list replaces the defaults');
    const defaults = await loadedFiles(base);
    assert.ok(defaults.length > 0 && defaults.every((f) => f.startsWith(DEFAULT_RULES_DIR)), `defaults when no rules are given: ${defaults.join(', ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
