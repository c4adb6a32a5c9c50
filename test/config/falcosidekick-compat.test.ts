import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.ts';
import { configKeys } from '../../src/config/reference.ts';
import { enabledBlocks } from '../../src/router/instances.ts';
import { outputRegistry } from '../../outputs/registry.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/falcosidekick/', import.meta.url));
const EXAMPLE = `${FIXTURES}config-example-keys.yaml`;

/** NAME=value lines of the chart's rendered environment. */
function chartEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(`${FIXTURES}chart-env.env`, 'utf8').split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf('=');
    env[line.slice(0, i)] = line.slice(i + 1);
  }
  return env;
}

/** Dotted paths of the keys a YAML value sets; a null (comment-only) section sets none. */
function leafPaths(v: unknown, path: string[] = []): string[] {
  if (v === null) return [];
  if (typeof v !== 'object' || Array.isArray(v)) return [path.join('.').toLowerCase()];
  const entries = Object.entries(v);
  if (entries.length === 0) return [path.join('.').toLowerCase()];
  return entries.flatMap(([k, child]) => leafPaths(child, [...path, k]));
}

/**
 * Outputs the config enables, Falcosidekick's kind only: Peregrine's own web UI store ("ui", on by default)
 * is an extra that Falcosidekick has no counterpart of.
 */
function sidekickOutputs(config: ReturnType<typeof loadConfig>): string[] {
  return enabledBlocks(config, outputRegistry).map((b) => b.name).filter((n) => n !== 'ui').sort();
}

function load(yamlText: string, env: Record<string, string> = {}) {
  const warnings: string[] = [];
  const config = loadConfig({ yamlText, env, onWarning: (w) => warnings.push(w) });
  return { config, warnings };
}

const IGNORED_PREFIX = 'ignored Falcosidekick keys (outputs or features Peregrine does not have): ';
function ignoredList(warnings: string[]): string[] {
  const lines = warnings.filter((w) => w.includes(IGNORED_PREFIX));
  assert.equal(lines.length, 1, `one ignored-keys line, got: ${warnings.join(' | ')}`);
  return lines[0]!.split(IGNORED_PREFIX)[1]!.split(', ');
}

describe('Falcosidekick config_example.yaml layout (2.34.1) loads unchanged', () => {
  const warnings: string[] = [];
  const config = loadConfig({ file: EXAMPLE, env: {}, onWarning: (w) => warnings.push(w) });

  test('every key is used or listed in the one ignored-keys line, never both', () => {
    const ignored = new Set(ignoredList(warnings));
    const documented = configKeys().map((k) => k.path);
    const used = (p: string) => documented.includes(p) || documented.some((d) => p.startsWith(`${d}.`));
    // Null sections hold no key; what remains are the keys the file sets.
    const keys = leafPaths(parse(readFileSync(EXAMPLE, 'utf8')));
    assert.equal(keys.length, 95);
    for (const key of keys) {
      const listed = ignored.has(key) || [...ignored].some((i) => key.startsWith(`${i}.`));
      assert.ok(used(key) !== listed, `${key}: ${used(key) ? 'used and listed as ignored' : 'neither used nor listed'}`);
    }
    for (const i of ['outputfieldformat', 'mutualtlsfilespath', 'mutualtlsclient.certfile'] as const) assert.ok(!ignored.has(i), `${i} is read`);
    for (const i of ['rocketchat.webhookurl', 'aws.securitylake.interval', 'azure.eventhub.name', 'pagerduty.routingkey', 'sumologic.receiverurl']) {
      assert.ok(ignored.has(i), `${i} listed`);
    }
  });

  test('keys are read case-insensitively, null sections are unset, tlsserver keys parse', () => {
    assert.equal(config.outputfieldformat, '<timestamp>: <priority> <output> <custom_fields> <templated_fields>');
    assert.equal(config.mutualtlsfilespath, '/srv/certs');
    assert.deepEqual(config.mutualtlsclient, { certfile: '/srv/certs/client/c.crt', keyfile: '/srv/certs/client/c.key', cacertfile: '/srv/certs/client/ca.pem' });
    assert.deepEqual(config.templatedfields, {});
    assert.deepEqual(config.tlsserver, {
      deploy: false, certfile: '/srv/certs/server/s.crt', keyfile: '/srv/certs/server/s.key', mutualtls: false,
      cacertfile: '/srv/certs/server/ca.pem', notlsport: 2811, notlspaths: ['/healthz'],
    });
    // viper lower-cases map keys too: Falcosidekick emits customfield "Region" as "region".
    assert.deepEqual(config.customfields, { region: 'eu-west-1', team: 'sec', tier: 'gold' });
    assert.deepEqual(config.customtags, ['fleet', 'prod']);
    assert.equal((config.aws as { sns: { rawjson: boolean } }).sns.rawjson, true);
    assert.deepEqual(sidekickOutputs(config), []);
  });
});

describe('the environment as the falcosidekick chart renders it', () => {
  test('starts the same outputs as Falcosidekick: none with the defaults, one warning line', () => {
    const env = chartEnv();
    const { config, warnings } = load('', env);
    assert.deepEqual(sidekickOutputs(config), []);
    const ignored = ignoredList(warnings);
    assert.ok(ignored.includes('env ELASTICSEARCH_INDEX'));
    // The chart's mutual-TLS directory is read (outputs with mutualtls: true take their files from it).
    assert.ok(!ignored.includes('env MUTUALTLSFILESPATH'));
    assert.equal(config.mutualtlsfilespath, env.MUTUALTLSFILESPATH);
    // AWS_CHECKIDENTITY=true is used (an STS check when SNS starts), so it is not listed.
    assert.ok(!ignored.includes('env AWS_CHECKIDENTITY'));
    assert.equal((config.aws as { checkidentity: boolean }).checkidentity, true);
    // Empty variables are unset: none of the 250 "" ones is listed, and defaults stand.
    assert.ok(!ignored.some((i) => env[i.replace('env ', '')] === ''));
    assert.equal(config.customfields && Object.keys(config.customfields).length, 0);
    const kafka = config.kafka as Record<string, unknown>;
    assert.deepEqual([kafka.requiredacks, kafka.compression, kafka.balancer, kafka.async], ['NONE', 'NONE', 'round_robin', false]);
  });

  test('with the enabling variables set, the outputs Falcosidekick would start are enabled', () => {
    const env = {
      ...chartEnv(), SLACK_WEBHOOKURL: 'https://hooks.slack.com/services/T/B/X', WEBHOOK_ADDRESS: 'http://127.0.0.1:9/',
      KAFKA_HOSTPORT: '127.0.0.1:9092', KAFKA_TOPIC: 'falco', NATS_HOSTPORT: 'nats://127.0.0.1:4222',
      AWS_SNS_TOPICARN: 'arn:aws:sns:us-east-1:123456789012:falco', ROCKETCHAT_WEBHOOKURL: 'http://chat/hook',
    };
    const { config, warnings } = load('', env);
    assert.deepEqual(sidekickOutputs(config), ['awssns', 'kafka', 'nats', 'slack', 'webhook']);
    assert.ok(ignoredList(warnings).includes('env ROCKETCHAT_WEBHOOKURL'));
    const nats = enabledBlocks(config, outputRegistry).find((b) => b.name === 'nats')!.block;
    assert.equal(nats.subjecttemplate, 'falco.<priority>.<rule>');
  });
});

describe('values as Falcosidekick accepts them', () => {
  test('priority aliases and any case', () => {
    const { config } = load('', { SLACK_MINIMUMPRIORITY: 'warn', WEBHOOK_MINIMUMPRIORITY: 'INFO', KAFKA_MINIMUMPRIORITY: 'Crit' });
    assert.equal((config.slack as { minimumpriority: string }).minimumpriority, 'warning');
    assert.equal((config.webhook as { minimumpriority: string }).minimumpriority, 'informational');
    assert.equal((config.kafka as { minimumpriority: string }).minimumpriority, 'critical');
  });

  test('kafka compression, balancer, acks and sasl in any case; async', () => {
    for (const c of ['snappy', 'SNAPPY', 'lz4', 'Zstd', 'gzip', 'none']) {
      assert.equal((load('', { KAFKA_COMPRESSION: c }).config.kafka as { compression: string }).compression, c.toUpperCase());
    }
    for (const b of ['least_bytes', 'ROUND_ROBIN', 'murmur2', 'murmur2_random', 'crc32', 'crc32_random']) {
      assert.equal((load('', { KAFKA_BALANCER: b }).config.kafka as { balancer: string }).balancer, b.toLowerCase());
    }
    const k = load('kafka:\n  requiredacks: all\n  sasl: plain\n  async: true\n').config.kafka as Record<string, unknown>;
    assert.deepEqual([k.requiredacks, k.sasl, k.async], ['ALL', 'PLAIN', true]);
    assert.throws(() => load('', { KAFKA_COMPRESSION: 'brotli' }), /env KAFKA_COMPRESSION \(kafka\.compression\)/);
  });

  test('webhook method any case; customHeaders as a map or as the chart writes it ("k:v,k2:v2")', () => {
    assert.equal((load('', { WEBHOOK_METHOD: 'put' }).config.webhook as { method: string }).method, 'put');
    const map = load('webhook:\n  customHeaders:\n    X-Team: sec\n').config.webhook as { customheaders: Record<string, string> };
    assert.deepEqual(map.customheaders, { 'x-team': 'sec' });
    const str = load('webhook:\n  customHeaders: "Authorization:Bearer a:b,X-Env:prod"\n').config.webhook as { customheaders: Record<string, string> };
    assert.deepEqual(str.customheaders, { Authorization: 'Bearer a:b', 'X-Env': 'prod' });
  });

  test('CUSTOMFIELDS values with %VAR take that variable; an unset one is left out with a warning', () => {
    const { config, warnings } = load('', { CUSTOMFIELDS: 'cluster:%MYCLUSTER,zone:%NOPE,team:sec', MYCLUSTER: 'prod-eu' });
    assert.deepEqual(config.customfields, { cluster: 'prod-eu', team: 'sec' });
    assert.ok(warnings.some((w) => w.includes('customfields.zone') && w.includes('NOPE')));
  });

  test('aws.rolearn and aws.externalid are listed as ignored (as Falcosidekick 2.34.1 ignores them); aws.checkidentity is used', () => {
    const { config, warnings } = load('aws:\n  rolearn: arn:aws:iam::1:role/x\n  checkidentity: false\n  sns:\n    topicarn: ""\n', { AWS_EXTERNALID: 'ext' });
    const ignored = ignoredList(warnings);
    for (const k of ['aws.rolearn', 'env AWS_EXTERNALID']) assert.ok(ignored.includes(k), k);
    assert.ok(!ignored.includes('aws.checkidentity'));
    assert.equal((config.aws as { checkidentity: boolean }).checkidentity, false);
  });

  test('unknown keys that are not Falcosidekick\'s still stop the start, with their line', () => {
    assert.throws(() => load('debug: false\naws:\n  regoin: eu-west-1\n'), /<config>:3: aws: unknown key\(s\) "regoin"/);
    assert.throws(() => load('slack:\n  webhookUrll: x\n'), /<config>:2: slack: unknown key\(s\) "webhookurll"/);
    assert.throws(() => load('webhook:\n  customHeaders: {}\n  customheaders: {}\n'), /set twice: webhook\.customheaders \(line 3\)/);
  });
});
