import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { withReference } from '../../scripts/gen-config-docs.ts';
import { configKeys } from '../../src/config/reference.ts';

test('README configuration reference matches the schema (run node scripts/gen-config-docs.ts)', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  assert.equal(withReference(readme), readme);
});

test('the reference lists Falcosidekick env names for every key', () => {
  const keys = configKeys();
  const slack = keys.find((k) => k.path === 'slack.webhookurl');
  assert.equal(slack?.env, 'SLACK_WEBHOOKURL');
  assert.ok(keys.find((k) => k.path === 'listenport')?.default === '2801');
});
