import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { enabledBlocks } from '../../src/router/instances.ts';
import { outputRegistry } from '../../outputs/registry.ts';

describe('config defaults and Falcosidekick compatibility', () => {
  test('the embedded default config loads and enables only the UI store', () => {
    const c = loadConfig({ env: {} });
    assert.equal(c.listenport, 2801);
    assert.equal(c.bodylimit, 1048576);
    assert.deepEqual(enabledBlocks(c, outputRegistry).map((b) => b.name), ['ui']);
  });
  test('a Falcosidekick YAML config works unchanged', () => {
    const c = loadConfig({
      env: {},
      yamlText: `
listenport: 2802
customfields: { cluster: prod }
slack:
  webhookurl: https://hooks.slack.com/services/T/B/X
  minimumpriority: error
  outputformat: text
webhook:
  address: http://127.0.0.1:9000/alerts
  customheaders: { Authorization: "Bearer abc" }
`,
    });
    const blocks = enabledBlocks(c, outputRegistry);
    assert.deepEqual(blocks.map((b) => b.name), ['slack', 'webhook', 'ui']);
    assert.equal(blocks[0]!.block.minimumpriority, 'error');
    // Keys are case-insensitive as in Falcosidekick (viper), map keys included: headers keep their meaning.
    assert.equal(blocks[1]!.block.customheaders && (blocks[1]!.block.customheaders as Record<string, string>).authorization, 'Bearer abc');
  });
  test('env overrides use Falcosidekick names and win over the file', () => {
    const c = loadConfig({
      yamlText: 'listenport: 2802\nslack: { minimumpriority: debug }',
      env: {
        LISTENPORT: '3000', SLACK_WEBHOOKURL: 'https://hooks.slack.com/services/A', SLACK_MINIMUMPRIORITY: 'Critical',
        WEBHOOK_ADDRESS: 'http://127.0.0.1:1/', WEBHOOK_CUSTOMHEADERS: 'Authorization:Bearer a:b,X-Env:prod',
        CUSTOMTAGS: 'a, b', DEBUG: 'true', WEBHOOK_CHECKCERT: 'false',
      },
    });
    assert.equal(c.listenport, 3000);
    assert.equal(c.debug, true);
    assert.deepEqual(c.customtags, ['a', 'b']);
    const [slack, webhook] = enabledBlocks(c, outputRegistry);
    assert.equal(slack!.block.minimumpriority, 'critical');
    // Values keep their colons, unlike Falcosidekick which drops such pairs.
    assert.deepEqual(webhook!.block.customheaders, { Authorization: 'Bearer a:b', 'X-Env': 'prod' });
    assert.equal(webhook!.block.checkcert, false);
  });
  test('named instances of one type, each with its own filter', () => {
    const c = loadConfig({
      env: {},
      yamlText: `
outputs:
  - name: slack-critical
    type: slack
    webhookurl: https://hooks.slack.com/services/1
    minimumpriority: critical
  - name: slack-k8s
    type: slack
    webhookurl: https://hooks.slack.com/services/2
    sources: [k8s_audit]
    tags: [k8s]
    delivery: { ratepersecond: 5 }
`,
    });
    const blocks = enabledBlocks(c, outputRegistry);
    assert.deepEqual(blocks.map((b) => [b.name, b.def.type]), [['ui', 'ui'], ['slack-critical', 'slack'], ['slack-k8s', 'slack']]);
    assert.deepEqual(blocks[2]!.block.sources, ['k8s_audit']);
    assert.equal(blocks[2]!.block.delivery.ratepersecond, 5);
  });
});

describe('config errors name the key, the line, or the env variable', () => {
  test('unknown priority: key path and line', () => {
    assert.throws(() => loadConfig({ env: {}, yamlText: 'listenport: 2801\nslack:\n  minimumpriority: critcal\n' }),
      /<config>:3: slack\.minimumpriority: unknown priority "critcal"/);
  });
  test('unknown key is rejected with its path', () => {
    assert.throws(() => loadConfig({ env: {}, yamlText: 'slack:\n  webhookur: x\n' }), /slack: unknown key\(s\) "webhookur"/);
    assert.throws(() => loadConfig({ env: {}, yamlText: 'listenprot: 1\n' }), /\(top level\): unknown key\(s\) "listenprot"/);
  });
  test('wrong type', () => {
    assert.throws(() => loadConfig({ env: {}, yamlText: 'listenport: "http"\n' }), /<config>:1: listenport: /);
  });
  test('a bad env value names the variable', () => {
    assert.throws(() => loadConfig({ env: { LISTENPORT: 'eighty' } }), /env LISTENPORT \(listenport\)/);
  });
  test('a named instance of an unknown type', () => {
    assert.throws(() => loadConfig({ env: {}, yamlText: 'outputs:\n  - { name: x, type: pagerduty }\n' }), /outputs\.0\.type/);
  });
  test('YAML syntax errors carry file:line:col', () => {
    const dir = mkdtempSync(join(tmpdir(), 'prg-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'slack:\n  webhookurl: "unterminated\n');
    assert.throws(() => loadConfig({ env: {}, file }), (err: Error) => err.message.startsWith(`${file}:`));
  });
  test('all problems are reported at once', () => {
    assert.throws(() => loadConfig({ env: {}, yamlText: 'listenport: -1\nslack: { minimumpriority: nope }\n' }),
      (err: Error) => /listenport/.test(err.message) && /slack\.minimumpriority/.test(err.message));
  });
});

describe('a full Falcosidekick config', () => {
  test('keys of outputs Peregrine lacks are ignored with a warning; its per-output keys are accepted', () => {
    const warnings: string[] = [];
    const c = loadConfig({
      env: {},
      onWarning: (w) => warnings.push(w),
      yamlText: `
mutualtlsfilespath: /etc/certs
slack: { webhookurl: "", maxconcurrentrequests: 2, mutualtls: false }
elasticsearch: { hostport: "", index: falco }
loki: { hostport: "" }
`,
    });
    assert.equal(c.listenport, 2801);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /ignored Falcosidekick keys .*: elasticsearch\.hostport, elasticsearch\.index, loki\.hostport$/);
    // Mutual TLS towards outputs is read (test/router/mutual-tls-client.test.ts), not ignored.
    assert.equal(c.mutualtlsfilespath, '/etc/certs');
  });
});
