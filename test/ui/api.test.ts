import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { FalcoAlert } from '../../src/alert/alert.ts';
import { loadRules } from '../../src/engine/engine.ts';
import { compileOutputFormat } from '../../src/engine/format.ts';
import { syscallFields } from '../../src/engine/fields/syscall.ts';
import { exec } from '../../src/engine/testing/events.ts';
import { csvHeader, csvRow } from '../../src/ui/api/csv.ts';
import { liveMatch } from '../../src/ui/api/live-filter.ts';
import { bucketFor, ParamError, parseQuery } from '../../src/ui/api/params.ts';
import { isLoopback, sameOrigin } from '../../src/ui/auth/guard.ts';
import { checkHashFormat, hashPassword, verifyPassword } from '../../src/ui/auth/password.ts';
import { retentionMs } from '../../src/ui/config.ts';
import type { StoredAlert } from '../../src/ui/store/contract.ts';
import { exceptionSnippet } from '../../src/ui/tuning/exception.ts';

test('query parameters: lists repeat, times as ms or ISO, errors name the parameter', () => {
  const q = parseQuery(new URLSearchParams('priority=Warning&priority=error&rule=a&rule=b&from=1000&to=2026-11-22T10:00:00Z&q=shadow&limit=10'));
  assert.deepEqual(q, { priorities: ['warning', 'error'], rules: ['a', 'b'], from: 1000, to: Date.parse('2026-11-22T10:00:00Z'), search: 'shadow', limit: 10 });
  assert.throws(() => parseQuery(new URLSearchParams('priority=loud')), new ParamError('priority: unknown priority "loud"'));
  assert.throws(() => parseQuery(new URLSearchParams('from=yesterday')), /from: "yesterday" is neither/);
  assert.throws(() => parseQuery(new URLSearchParams('limit=0')), /limit: "0" is not a whole number from 1 to 1000/);
  assert.throws(() => parseQuery(new URLSearchParams('from=2000&to=1000')), /from: must not be after to/);
  assert.equal(bucketFor(new URLSearchParams(), 0, 86_400_000, 0), 15 * 60_000, 'a day: 96 bars of 15 minutes');
  assert.throws(() => bucketFor(new URLSearchParams('bucket=1000'), 0, 86_400_000, 0), /more than 10000 buckets/);
});

test('CSV: RFC 4180 quoting, spreadsheet formulas neutralised', () => {
  const a = { id: 7, uuid: 'u', time: 't', priority: 'error', rule: 'r, "quoted"', source: 's', hostname: 'h', tags: ['x', 'y'],
    output: '=cmd|calc\nline2', output_fields: { k: 'v' }, timeMs: 0 } as StoredAlert;
  assert.equal(csvHeader(), 'id,time,priority,rule,source,hostname,tags,output,output_fields,uuid\r\n');
  assert.equal(csvRow(a), '7,t,error,"r, ""quoted""",s,h,x y,"\'=cmd|calc\nline2","{""k"":""v""}",u\r\n');
});

test('live filter agrees with the store\'s filter semantics', () => {
  const a = { id: 1, uuid: 'u', time: '', timeMs: 5000, priority: 'warning', rule: 'R', source: 'syscall', hostname: 'h1', tags: ['shell'],
    output: 'Shell spawned (file=/etc/shadow)', output_fields: { 'container.id': 'abc', 'proc.name': 'bash' } } as StoredAlert;
  assert.equal(liveMatch({})(a), true);
  assert.equal(liveMatch({ priorities: ['warning'], rules: ['R'], tags: ['x', 'shell'], containers: ['abc'], from: 5000, to: 5001 })(a), true);
  assert.equal(liveMatch({ search: '/etc/shad' })(a), true);
  assert.equal(liveMatch({ search: 'bas' })(a), true, 'field values, prefix on the last word');
  assert.equal(liveMatch({ search: 'shadow etc' })(a), true, 'terms in any order');
  assert.equal(liveMatch({ search: 'spawned shell' })(a), true);
  assert.equal(liveMatch({ search: 'spawned zsh' })(a), false, 'every word must occur');
  assert.equal(liveMatch({ search: 'zsh' })(a), false);
  assert.equal(liveMatch({ to: 5000 })(a), false);
  assert.equal(liveMatch({ hostnames: ['h2'] })(a), false);
});

test('passwords: scrypt hash round trip; a malformed hash is named', () => {
  const h = hashPassword('correct horse');
  assert.match(h, /^scrypt\$32768\$8\$1\$/);
  assert.equal(verifyPassword('correct horse', h), true);
  assert.equal(verifyPassword('correct horsf', h), false);
  assert.notEqual(hashPassword('correct horse'), h, 'salted');
  assert.throws(() => checkHashFormat('$2b$10$abc'), /ui.passwordhash: not a hash made by `peregrine ui-password`/);
});

test('peregrine ui-password prints a hash that verifies, from stdin', () => {
  const r = spawnSync(process.execPath, ['bin/peregrine', 'ui-password'], { input: 'a long password\n', encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(verifyPassword('a long password', r.stdout.trim()), true);
  const short = spawnSync(process.execPath, ['bin/peregrine', 'ui-password'], { input: 'short', encoding: 'utf8' });
  assert.equal(short.status, 2);
  assert.match(short.stderr, /at least 8 characters/);
});

test('loopback and same-origin checks', () => {
  for (const a of ['127.0.0.1', '127.8.0.1', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopback(a), true, a);
  for (const a of ['10.0.0.1', '::ffff:192.0.2.1', 'fe80::1', undefined]) assert.equal(isLoopback(a), false, String(a));
  const req = (headers: Record<string, string>) => ({ headers: { host: 'peregrine:2801', ...headers } }) as never;
  assert.equal(sameOrigin(req({ 'content-type': 'application/json', origin: 'http://peregrine:2801' })), true);
  assert.equal(sameOrigin(req({ 'content-type': 'application/json', origin: 'http://evil.example' })), false);
  assert.equal(sameOrigin(req({ 'content-type': 'application/x-www-form-urlencoded', origin: 'http://peregrine:2801' })), false);
  assert.equal(sameOrigin(req({ 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' })), false);
});

test('ui.retention durations', () => {
  assert.equal(retentionMs('7d'), 7 * 86_400_000);
  assert.equal(retentionMs('90m'), 90 * 60_000);
  assert.equal(retentionMs('0'), 0);
});

test('the exception snippet loads after the rule and silences exactly that alert\'s events', () => {
  const RULE = `- rule: Shell run
  desc: a shell
  condition: evt.type in (execve, execveat) and evt.dir = < and proc.name in (sh, bash)
  output: shell %proc.name by %user.name pid=%proc.pid
  priority: WARNING
`;
  const first = loadRules([{ name: 'rules.yaml', content: RULE }], { tables: [syscallFields], compileOutput: compileOutputFormat });
  assert.deepEqual(first.errors, []);
  const event = exec({ comm: 'sh', exe: '/bin/sh' });
  const [rule] = first.engine.evaluate(event);
  assert.ok(rule, 'the rule matches the event');
  const out = rule.format!(event);
  const alert: FalcoAlert = { uuid: 'u-1', time: '2026-11-22T10:00:00Z', priority: 'warning', rule: 'Shell run', source: 'syscall',
    hostname: 'h', tags: [], output: out.text, output_fields: out.fields as FalcoAlert['output_fields'] };
  const yaml = exceptionSnippet(alert);
  assert.doesNotMatch(yaml, /proc\.pid/, 'volatile fields are left out');
  const tuned = loadRules([{ name: 'rules.yaml', content: RULE }, { name: 'exception.yaml', content: yaml }], { tables: [syscallFields], compileOutput: compileOutputFormat });
  assert.deepEqual(tuned.errors, []);
  assert.deepEqual(tuned.engine.evaluate(event), [], 'the alert\'s event no longer matches');
  assert.equal(tuned.engine.evaluate(exec({ comm: 'bash', exe: '/bin/bash' })).length, 1, 'other events of the rule still do');
});
