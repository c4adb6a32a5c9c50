// Peregrine's own default rules (config/rules/): each fires on the behaviour it names and not on a close miss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RULES_DIR, loadRuleFiles } from '../../src/engine/rules-files.ts';
import type { EngineEvent } from '../../src/engine/event.ts';
import { container, exec, k8sAudit, openFile, syscall } from '../../src/engine/testing/events.ts';

const { engine, errors, warnings } = loadRuleFiles([DEFAULT_RULES_DIR], { ruleMatching: 'all' });
const names = (e: EngineEvent) => engine.evaluate(e).map((r) => r.name);
const O_WRONLY = 1, O_CREAT = 0o100;
const pod = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => k8sAudit({
  kind: 'Event', verb: 'create', user: { username: 'alice' }, objectRef: { resource: 'pods', namespace: 'default' },
  responseStatus: { code: 201 }, stageTimestamp: '2026-11-23T10:00:00.000000Z', requestObject: { spec }, ...extra,
});

test('the default rules load with no errors and no warnings, every rule event-type indexed', () => {
  assert.deepEqual([...errors, ...warnings].map((d) => d.message), []);
  assert.equal(engine.rules.length, 13);
  for (const r of engine.rules.filter((x) => x.source === 'syscall')) assert.ok(r.eventTypes, r.name);
});

const cases: Record<string, [EngineEvent, EngineEvent]> = {
  'Write below binary dir': [openFile('/usr/bin/ls', O_WRONLY | O_CREAT, { comm: 'curl' }), openFile('/usr/bin/ls', O_WRONLY | O_CREAT, { comm: 'dpkg' })],
  'Write below etc': [openFile('/etc/ld.so.preload', O_WRONLY, { comm: 'python3' }), openFile('/etc/ld.so.preload', 0, { comm: 'python3' })],
  'Read shadow file by untrusted program': [openFile('/etc/shadow', 0, { comm: 'cat' }), openFile('/etc/shadow', 0, { comm: 'sshd' })],
  'Shell spawned in container': [exec({ comm: 'bash', ancestors: ['runc'] }, container()), exec({ comm: 'bash', ancestors: ['sshd'] })],
  'Kernel module loaded': [syscall({ type: 'finit_module', res: 0, thread: { comm: 'insmod' } }), syscall({ type: 'finit_module', res: -1, thread: { comm: 'insmod' } })],
  'Process injection with ptrace': [syscall({ type: 'ptrace', args: { request: 16, pid: 1 }, thread: { comm: 'evil' } }), syscall({ type: 'ptrace', args: { request: 16, pid: 1 }, thread: { comm: 'gdb' } })],
  'Fileless execution': [exec({ comm: '3', exeFromMemfd: true }), exec({ comm: 'ls' })],
  'Exec or attach into pod': [
    k8sAudit({ verb: 'create', objectRef: { resource: 'pods', subresource: 'exec', name: 'web' }, requestURI: '/api/v1/namespaces/default/pods/web/exec?command=sh' }),
    k8sAudit({ verb: 'create', objectRef: { resource: 'pods', subresource: 'log', name: 'web' } }),
  ],
  'Privileged pod created': [pod({ containers: [{ image: 'nginx', securityContext: { privileged: true } }] }), pod({ containers: [{ image: 'nginx' }] })],
  'Host namespace pod created': [pod({ hostNetwork: true, containers: [{ image: 'nginx' }] }), pod({ hostNetwork: false, containers: [{ image: 'nginx' }] })],
  'Cluster-admin binding created': [
    k8sAudit({ verb: 'create', objectRef: { resource: 'clusterrolebindings', name: 'b' }, requestObject: { roleRef: { name: 'cluster-admin' }, subjects: [{ name: 'mallory' }] } }),
    k8sAudit({ verb: 'create', objectRef: { resource: 'clusterrolebindings', name: 'b' }, requestObject: { roleRef: { name: 'view' } } }),
  ],
  'Secret read by unexpected user': [
    k8sAudit({ verb: 'get', user: { username: 'alice' }, objectRef: { resource: 'secrets', name: 'db' }, responseStatus: { code: 200 } }),
    k8sAudit({ verb: 'get', user: { username: 'system:node:n1' }, objectRef: { resource: 'secrets', name: 'db' }, responseStatus: { code: 200 } }),
  ],
  'Anonymous request allowed': [
    k8sAudit({ user: { username: 'system:anonymous' }, requestURI: '/api/v1/secrets', annotations: { 'authorization.k8s.io/decision': 'allow' } }),
    k8sAudit({ user: { username: 'system:anonymous' }, requestURI: '/healthz', annotations: { 'authorization.k8s.io/decision': 'allow' } }),
  ],
};

test('there is a fire/miss pair for every default rule', () => {
  assert.deepEqual(Object.keys(cases).sort(), engine.rules.map((r) => r.name).sort());
});

for (const [name, [hit, miss]] of Object.entries(cases)) {
  test(`default rule "${name}"`, () => {
    assert.ok(names(hit).includes(name), JSON.stringify(names(hit)));
    assert.ok(!names(miss).includes(name), JSON.stringify(names(miss)));
    assert.doesNotMatch(engine.rules.find((r) => r.name === name)!.format!(hit).text, /%/);
  });
}
