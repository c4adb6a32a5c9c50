// Flag-typed parameters rendered as Falco's libs do: the driver's PPM encoding, libsinsp's table order and
// matching rules for PT_FLAGS, PT_ENUMFLAGS and PT_MODE, and the print formats of the numeric ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileOutputFormat } from '../../src/engine/format.ts';
import { syscallFields } from '../../src/engine/fields/syscall.ts';
import { loadRules } from '../../src/engine/engine.ts';
import type { SyscallEvent } from '../../src/engine/event.ts';
import { syscall } from '../../src/engine/testing/events.ts';

const O_WRONLY = 0o1, O_CREAT = 0o100, O_TRUNC = 0o1000, O_NONBLOCK = 0o4000, O_DIRECTORY = 0o200000, O_CLOEXEC = 0o2000000;

function arg(e: SyscallEvent, name: string): unknown {
  return compileOutputFormat(`%evt.arg.${name}`, syscallFields)(e).fields[`evt.arg.${name}`];
}
function field(e: SyscallEvent, f: string): unknown {
  return compileOutputFormat(`%${f}`, syscallFields)(e).fields[f];
}

test('open flags: libs\' names in its table order, from the PPM encoding (O_TRUNC|O_CREAT|O_WRONLY)', () => {
  const open = (flags: number) => syscall({ type: 'openat', args: { fd: 3, dirfd: -100, name: '/x', flags, mode: 0o644 }, res: 3 });
  assert.equal(arg(open(O_WRONLY | O_CREAT | O_TRUNC), 'flags'), 'O_TRUNC|O_CREAT|O_WRONLY');
  assert.equal(arg(open(O_CLOEXEC), 'flags'), 'O_RDONLY|O_CLOEXEC');
  // The driver's quirk: O_DIRECTORY shares its bit with O_TMPFILE's kernel value, so both are named.
  assert.equal(arg(open(O_DIRECTORY | O_NONBLOCK | O_CLOEXEC), 'flags'), 'O_DIRECTORY|O_NONBLOCK|O_RDONLY|O_CLOEXEC|O_TMPFILE');
  assert.equal(arg(open(0), 'mode'), '0644');
  assert.equal(field(open(O_CLOEXEC), 'evt.rawarg.flags'), 4097, 'evt.rawarg gives the PPM value');
  assert.equal(field(open(O_CLOEXEC), 'evt.args'), 'fd=3 dirfd=-100(AT_FDCWD) name=/x flags=4097(O_RDONLY|O_CLOEXEC) mode=0644');
});

test('chmod modes name every bit (S_ISUID last); 0 prints as 0', () => {
  const chmod = (mode: number) => syscall({ type: 'fchmodat', args: { dirfd: -100, filename: '/x', mode }, res: 0 });
  assert.equal(arg(chmod(0o4755), 'mode'), 'S_IXOTH|S_IROTH|S_IXGRP|S_IRGRP|S_IXUSR|S_IWUSR|S_IRUSR|S_ISUID');
  assert.equal(arg(chmod(0o4000), 'mode'), 'S_ISUID');
  assert.equal(arg(chmod(0o2644), 'mode'), 'S_IROTH|S_IRGRP|S_IWUSR|S_IRUSR|S_ISGID');
  assert.equal(arg(chmod(0), 'mode'), '0');
  const { engine, errors } = loadRules([{ name: 'r.yaml', content: '- rule: suid\n  desc: d\n  condition: evt.type in (chmod, fchmod, fchmodat) and evt.arg.mode contains S_ISUID\n  output: o\n  priority: INFO\n' }], { tables: [syscallFields] });
  assert.deepEqual(errors, []);
  assert.equal(engine.evaluate(chmod(0o4755)).length, 1);
  assert.equal(engine.evaluate(chmod(0o755)).length, 0);
});

test('enums name every equal entry (AF_LOCAL|AF_UNIX), bpf commands, ptrace requests; unknown values print as numbers', () => {
  assert.equal(arg(syscall({ type: 'socket', args: { domain: 1, type: 1, proto: 0 }, res: 3 }), 'domain'), 'AF_LOCAL|AF_UNIX');
  assert.equal(arg(syscall({ type: 'socket', args: { domain: 2, type: 1, proto: 0 }, res: 3 }), 'domain'), 'AF_INET');
  assert.equal(arg(syscall({ type: 'socket', args: { domain: 99, type: 1, proto: 0 }, res: 3 }), 'domain'), '99');
  assert.equal(arg(syscall({ type: 'bpf', args: { fd: 4, cmd: 5 }, res: 4 }), 'cmd'), 'BPF_PROG_LOAD');
  assert.equal(arg(syscall({ type: 'bpf', args: { fd: 0, cmd: 10 }, res: 0 }), 'cmd'), 'BPF_PROG_TEST_RUN|BPF_PROG_RUN');
  assert.equal(arg(syscall({ type: 'ptrace', args: { request: 16, pid: 1 }, res: 0 }), 'request'), 'PTRACE_ATTACH');
  assert.equal(arg(syscall({ type: 'ptrace', args: { request: 999, pid: 1 }, res: 0 }), 'request'), 'PTRACE_UNKNOWN');
});

test('the other flag tables: clone/unshare/setns, mount (magic stripped), umount, *at flags, memfd, finit_module, userfaultfd', () => {
  const CLONE_NEWNS = 0x20000, CLONE_NEWUSER = 0x10000000, CLONE_NEWNET = 0x40000000;
  assert.equal(arg(syscall({ type: 'unshare', args: { flags: CLONE_NEWUSER | CLONE_NEWNS } }), 'flags'), 'CLONE_NEWNS|CLONE_NEWUSER');
  assert.equal(arg(syscall({ type: 'setns', args: { fd: 3, nstype: CLONE_NEWNET } }), 'nstype'), 'CLONE_NEWNET');
  assert.equal(arg(syscall({ type: 'mount', args: { dev: 'a', dir: '/b', type: 'none', flags: (0xc0ed0000 | 4096 | 16384) >>> 0 } }), 'flags'), 'BIND|REC');
  assert.equal(arg(syscall({ type: 'umount2', args: { name: '/b', flags: 2 } }), 'flags'), 'DETACH');
  assert.equal(arg(syscall({ type: 'unlinkat', args: { dirfd: -100, name: 'd', flags: 0x200 } }), 'flags'), 'AT_REMOVEDIR');
  assert.equal(arg(syscall({ type: 'linkat', args: { olddir: -100, oldpath: 'a', newdir: -100, newpath: 'b', flags: 0x400 } }), 'flags'), 'AT_SYMLINK_FOLLOW');
  assert.equal(arg(syscall({ type: 'renameat2', args: { olddirfd: -100, oldpath: 'a', newdirfd: -100, newpath: 'b', flags: 2 } }), 'flags'), 'RENAME_EXCHANGE');
  assert.equal(arg(syscall({ type: 'memfd_create', args: { name: 'x', flags: 3 }, res: 3 }), 'flags'), 'MFD_CLOEXEC|MFD_ALLOW_SEALING');
  assert.equal(arg(syscall({ type: 'finit_module', args: { fd: 3, uargs: '', flags: 4 } }), 'flags'), 'MODULE_INIT_COMPRESSED_FILE');
  assert.equal(arg(syscall({ type: 'openat2', args: { fd: 3, dirfd: -100, name: '/x', flags: 0, mode: 0, resolve: 0x08 | 0x04 }, res: 3 }), 'resolve'), 'RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS');
  // userfaultfd's flags reach libs unconverted and are named from the open-flags table: O_NONBLOCK (0x800) reads as
  // O_LARGEFILE, O_CLOEXEC's bit has no name there.
  assert.equal(arg(syscall({ type: 'userfaultfd', args: { flags: O_NONBLOCK | O_CLOEXEC }, res: 3 }), 'flags'), 'O_LARGEFILE');
  assert.equal(arg(syscall({ type: 'userfaultfd', args: { flags: 1 }, res: 3 }), 'flags'), 'O_RDONLY');
  assert.equal(arg(syscall({ type: 'mkdir', args: { path: '/d', mode: 0o755 } }), 'mode'), '1ED');
  assert.equal(arg(syscall({ type: 'accept4', args: { fd: 4, tuple: null, flags: 0x80000 }, res: 4 }), 'flags'), '80000');
  assert.equal(arg(syscall({ type: 'unshare', args: { flags: 0 } }), 'flags'), '0');
});
