// The "kernel capture started" line lists what the kernel side attached, not what the rules asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deliveredTypes, programsFor } from '../../src/capture/index.ts';

test('delivered types: wanted types whose program attached (exec/fork/exit programs stand for their types)', () => {
  const wanted = new Set(['execve', 'openat', 'userfaultfd', 'umount2', 'clone', 'procexit', 'recvfrom']);
  assert.deepEqual(deliveredTypes(wanted, ['on_exec', 'on_fork', 'sc_openat', 'sc_umount', 'sc_recvfrom']), ['clone', 'execve', 'openat', 'recvfrom', 'umount2']);
  assert.deepEqual(deliveredTypes(wanted, []), []);
});

test('the syscalls Falco\'s published rules need have kernel programs: userfaultfd, bpf, recvfrom, recvmsg', () => {
  assert.deepEqual(programsFor(new Set(['userfaultfd', 'bpf', 'recvfrom', 'recvmsg'])).filter((p) => !['chdir', 'fchdir'].includes(p)).sort(), ['bpf', 'recvfrom', 'recvmsg', 'userfaultfd']);
});
