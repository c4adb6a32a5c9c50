// Kernel capture against the real kernel (run as root; never skipped): child processes do real things
// with a unique marker and the decoded events must carry the right type, args, fd, thread and result.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SyscallEvent } from '../../src/engine/event.ts';
import { captureAvailability, startCapture, type Capture } from '../../src/capture/index.ts';
import { captureTestLog, waitFor } from '../support/capture.ts';

const PY = '/usr/bin/python3';
const log = captureTestLog;

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): number {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
  if (r.error) throw r.error;
  return r.pid ?? -1;
}

test('capture is available (root, BTF, addon built)', () => {
  assert.deepEqual(captureAvailability(), { ok: true });
});

describe('kernel capture: events from real processes', () => {
  const marker = `pgmark${process.pid}x${Date.now()}`;
  const dir = mkdtempSync(join(tmpdir(), 'pg-capture-'));
  const file = join(dir, `${marker}.txt`);
  const events: SyscallEvent[] = [];
  let cap: Capture;
  let server: Server;
  let port = 0;
  const types = new Set(['openat', 'open', 'execve', 'connect', 'rename', 'renameat', 'renameat2', 'unlink', 'unlinkat', 'mkdir', 'mkdirat',
    'symlink', 'symlinkat', 'ptrace', 'procexit', 'clone', 'fork', 'vfork', 'clone3', 'fchmod']);

  before(async () => {
    writeFileSync(file, 'x');
    server = createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as { port: number }).port;
    cap = await startCapture({ eventTypes: types, onEvents: (e) => { events.push(...e); }, log, ringBufferMB: 16 });
  });

  after(async () => {
    await cap?.stop();
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('openat by a child: name, fd.name (absolute and relative to cwd), thread, parent', async () => {
    const pid = run('/bin/sh', ['-c', `cat ${file} >/dev/null; cat ./${marker}.txt >/dev/null; cat /etc/hostname >/dev/null; :`], { cwd: dir });
    const abs = await waitFor('openat of the marker file', () =>
      events.find((e) => e.type === 'openat' && e.args.name === file));
    assert.equal(abs.dir, '<');
    assert.ok(abs.res >= 0);
    assert.equal(abs.fd?.num, abs.res);
    assert.equal(abs.fd?.name, file);
    assert.equal(abs.fd?.type, 'file');
    assert.equal(abs.args.dirfd, -100);
    assert.equal(typeof abs.args.flags, 'number');
    assert.equal(abs.thread.comm, 'cat');
    assert.equal(abs.thread.exepath, '/usr/bin/cat');
    assert.deepEqual(abs.thread.args, [file]);
    assert.equal(abs.thread.parent?.comm, 'sh');
    assert.equal(abs.thread.parent?.pid, pid);
    assert.equal(abs.thread.ppid, pid);
    assert.equal(abs.thread.cwd, dir);
    assert.equal(abs.thread.user.name, 'root');
    assert.equal(abs.thread.group.name, 'root');
    assert.ok(abs.thread.startTs > 0n);
    const now = BigInt(Date.now()) * 1_000_000n;
    assert.ok(abs.ts > now - 60_000_000_000n && abs.ts <= now + 1_000_000_000n, `ts ${abs.ts} is ns since the epoch`);

    const rel = await waitFor('relative openat', () => events.find((e) => e.type === 'openat' && e.args.name === `./${marker}.txt`));
    assert.equal(rel.fd?.name, file);
    assert.equal(rel.fd?.nameRaw, `./${marker}.txt`);

    const host = await waitFor('openat of /etc/hostname', () =>
      events.find((e) => e.type === 'openat' && e.args.name === '/etc/hostname' && e.thread.ppid === pid));
    assert.equal(host.fd?.name, '/etc/hostname');
    assert.equal(host.thread.comm, 'cat');

    const missing = `${dir}/${marker}-missing`;
    run('/bin/cat', [missing]);
    const failed = await waitFor('failed openat', () => events.find((e) => e.type === 'openat' && e.args.name === missing));
    assert.equal(failed.res, -2);
    assert.equal(failed.fd, undefined);
  });

  test('execve with a marker argument; clone in the parent; procexit with the exit code', async () => {
    const pid = run('/bin/sh', ['-c', `/bin/true ${marker} "second arg"; exit 3`]);
    const ex = await waitFor('execve of /bin/true', () =>
      events.find((e) => e.type === 'execve' && e.thread.args[0] === marker));
    assert.equal(ex.res, 0);
    assert.equal(ex.args.filename, '/bin/true');
    assert.equal(ex.thread.comm, 'true');
    assert.equal(ex.thread.exe, '/bin/true');
    assert.equal(ex.thread.exepath, '/bin/true');
    assert.deepEqual(ex.thread.args, [marker, 'second arg']);
    assert.equal(ex.thread.parent?.comm, 'sh');
    assert.equal(ex.thread.parent?.pid, pid);
    assert.equal(ex.thread.parent?.parent?.pid, process.pid, 'proc.aname[2] is this test process');
    assert.equal(ex.thread.loginuid >>> 0, ex.thread.loginuid);

    const shExec = await waitFor('execve of sh', () => events.find((e) => e.type === 'execve' && e.thread.pid === pid));
    assert.equal(shExec.thread.exepath, '/bin/sh');
    assert.deepEqual(shExec.thread.args, ['-c', `/bin/true ${marker} "second arg"; exit 3`]);

    const cl = await waitFor('clone in sh', () => events.find((e) => ['clone', 'fork', 'vfork', 'clone3'].includes(e.type) && e.thread.pid === pid && e.res === ex.thread.pid));
    assert.equal(cl.thread.comm, 'sh');

    const exit = await waitFor('procexit of sh', () => events.find((e) => e.type === 'procexit' && e.thread.pid === pid));
    assert.equal(exit.args.ret, 3);
    assert.equal(exit.thread.comm, 'sh');
    const exitTrue = await waitFor('procexit of true', () => events.find((e) => e.type === 'procexit' && e.thread.pid === ex.thread.pid));
    assert.equal(exitTrue.args.ret, 0);

    // A failed execve is reported from its sys_exit with the errno.
    const bad = `${dir}/${marker}-noexec`;
    run(PY, ['-c', `import os\ntry: os.execv(${JSON.stringify(bad)}, ["x"])\nexcept OSError: pass`]);
    const fe = await waitFor('failed execve', () => events.find((e) => e.type === 'execve' && e.args.filename === bad));
    assert.equal(fe.res, -2);
    assert.equal(fe.thread.comm, 'python3');
  });

  test('connect to a 127.0.0.1 TCP listener: tuple and fd fields', async () => {
    const pid = run(PY, ['-c', `import socket\ns = socket.create_connection(("127.0.0.1", ${port}))\ns.close()`]);
    const c = await waitFor('connect', () => events.find((e) => e.type === 'connect' && e.thread.pid === pid && e.fd?.sport === port));
    assert.equal(c.res, 0);
    assert.equal(typeof c.args.fd, 'number');
    assert.equal(c.fd?.num, c.args.fd);
    assert.equal(c.fd?.type, 'ipv4');
    assert.equal(c.fd?.l4proto, 'tcp');
    assert.equal(c.fd?.sip, '127.0.0.1');
    assert.equal(c.fd?.cip, '127.0.0.1');
    assert.ok((c.fd?.cport ?? 0) > 0);
    assert.equal(c.fd?.isServer, false);
    assert.equal(c.fd?.connected, true);
    assert.equal(c.args.tuple, `127.0.0.1:${c.fd?.cport}->127.0.0.1:${port}`);
    assert.equal(c.args.addr, `127.0.0.1:${port}`);
    assert.equal(c.thread.comm, 'python3');
  });

  test('rename, unlink, mkdir, symlink of a marker path; fchmod resolves fd.name from the open', async () => {
    const a = join(dir, `${marker}-a`), b = join(dir, `${marker}-b`), d = join(dir, `${marker}-d`), l = join(dir, `${marker}-l`);
    const pid = run(PY, ['-c', [
      'import os, sys',
      `a, b, d, l = ${JSON.stringify([a, b, d, l])}`,
      'open(a, "w").close()',
      'os.rename(a, b)',
      'os.mkdir(d)',
      'os.symlink(b, l)',
      'os.unlink(l)',
      'fd = os.open(b, os.O_RDONLY)',
      'os.fchmod(fd, 0o600)',
      'os.chmod(b, 0o644)',
      'os.unlink(b)',
    ].join('\n')]);
    const ren = await waitFor('rename', () => events.find((e) => e.type.startsWith('rename') && e.args.oldpath === a));
    assert.equal(ren.args.newpath, b);
    assert.equal(ren.res, 0);
    assert.equal(ren.thread.pid, pid);
    const mk = await waitFor('mkdir', () => events.find((e) => e.type.startsWith('mkdir') && e.args.path === d));
    assert.equal(mk.res, 0);
    assert.equal(mk.args.mode, 0o777);
    const sl = await waitFor('symlink', () => events.find((e) => e.type.startsWith('symlink') && e.args.linkpath === l));
    assert.equal(sl.args.target, b);
    const ul = await waitFor('unlink', () => events.find((e) => e.type.startsWith('unlink') && (e.args.path === l || e.args.name === l)));
    assert.equal(ul.res, 0);
    const fc = await waitFor('fchmod', () => events.find((e) => e.type === 'fchmod' && e.thread.pid === pid));
    assert.equal(fc.args.mode, 0o600);
    assert.equal(fc.fd?.name, b);
    assert.equal(fc.fd?.num, fc.args.fd);
  });

  test('ptrace via python ctypes', async () => {
    const pid = run(PY, ['-c', 'import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nlibc.ptrace(0, 0, 0, 0)\nlibc.ptrace(16, 1, 0, 0)']);
    const tm = await waitFor('ptrace TRACEME', () => events.find((e) => e.type === 'ptrace' && e.thread.pid === pid && e.args.request === 0));
    assert.equal(tm.res, 0);
    const at = await waitFor('ptrace ATTACH', () => events.find((e) => e.type === 'ptrace' && e.thread.pid === pid && e.args.request === 16));
    assert.equal(at.args.pid, 1);
  });

  test('a child that moves itself into a docker-named cgroup (v1 pids hierarchy): its later events carry that container', async () => {
    // A runtime moves the process after fork and before exec; here the process moves itself and never execs.
    const hier = '/sys/fs/cgroup/pids';
    const parent = join(hier, 'docker');
    const id = randomBytes(32).toString('hex');
    const cg = join(parent, id);
    const createdParent = !existsSync(parent);
    mkdirSync(cg, { recursive: true });
    const before = join(dir, `${marker}-before-move`), moved = join(dir, `${marker}-after-move`);
    writeFileSync(before, 'x');
    writeFileSync(moved, 'x');
    try {
      const pid = run(PY, ['-c', [
        'import os',
        `open(${JSON.stringify(before)}).close()`,
        `with open(${JSON.stringify(join(cg, 'cgroup.procs'))}, "w") as f: f.write(str(os.getpid()))`,
        `open(${JSON.stringify(moved)}).close()`,
      ].join('\n')]);
      const pre = await waitFor('openat before the move', () => events.find((e) => e.type === 'openat' && e.args.name === before));
      assert.equal(pre.thread.pid, pid);
      assert.equal(pre.thread.container, undefined, 'not in a container before the move');
      const post = await waitFor('openat after the move', () => events.find((e) => e.type === 'openat' && e.args.name === moved));
      assert.equal(post.thread.pid, pid);
      assert.deepEqual(post.thread.container, { id: id.slice(0, 12), fullId: id, type: 'docker' });
      assert.equal(pre.thread.container, undefined, 'the earlier event keeps the process as it was');
    } finally {
      rmdirSync(cg);
      if (createdParent) rmdirSync(parent);
    }
  });

  test('types not in the set are not delivered, nor the agent\'s own syscalls; counters and drops are exposed', async () => {
    const target = join(dir, `${marker}-chmod`);
    writeFileSync(target, 'x');
    readFileSync(file);
    const pid = run(PY, ['-c', `import os\nos.chmod(${JSON.stringify(target)}, 0o600)\nos.getppid()\nopen(${JSON.stringify(target)}).close()`]);
    await waitFor('the child\'s open', () => events.find((e) => e.type === 'openat' && e.thread.pid === pid && e.args.name === target));
    assert.equal(events.filter((e) => e.type === 'chmod').length, 0);
    for (const e of events) assert.ok(types.has(e.type), `delivered ${e.type}, which was not asked for`);
    assert.equal(events.filter((e) => e.thread.pid === process.pid && e.type !== 'clone' && e.type !== 'clone3' && e.type !== 'fork' && e.type !== 'vfork').length, 0,
      'the agent\'s own syscalls are filtered in the kernel');
    const st = cap.stats();
    assert.ok((st.counters.openat ?? 0) > 0);
    assert.ok((st.counters.events ?? 0) >= (st.counters.delivered ?? 0));
    assert.equal(st.counters.chmod, undefined);
    assert.equal(typeof st.drops.ringbuf_full, 'number');
    const nums = events.map((e) => e.num);
    assert.ok(nums.every((n, i) => i === 0 || n > nums[i - 1]!), 'evt.num increases');
  });
});

describe('kernel capture: drops are counted when the consumer falls behind', () => {
  test('a 1 MB ring and a blocked JS thread: ringbuf_full drops', async () => {
    let delivered = 0;
    const cap = await startCapture({ eventTypes: new Set(['openat']), onEvents: (e) => { delivered += e.length; }, log, ringBufferMB: 1 });
    try {
      const { spawn } = await import('node:child_process');
      const child = spawn(PY, ['-c', 'import os\nfor i in range(300000): os.close(os.open("/etc/hostname", os.O_RDONLY))'], { stdio: 'ignore' });
      // Keep the JS thread busy so batches pile up, the addon's queue fills and the ring overflows.
      const end = Date.now() + 3000;
      while (Date.now() < end && child.exitCode === null) { /* spin */ }
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.on('exit', r)));
      await new Promise((r) => setTimeout(r, 300));
      const st = cap.stats();
      assert.ok((st.drops.ringbuf_full ?? 0) > 0, `drops ${JSON.stringify(st)}`);
      assert.ok(delivered > 0);
      assert.ok((st.counters.openat ?? 0) + (st.drops.ringbuf_full ?? 0) >= 300000);
    } finally {
      await cap.stop();
    }
  });
});

describe('kernel capture: drop accounting is exact', () => {
  test('a link flood with the consumer blocked: sent reaches JS one for one, and sent + dropped = every call', async () => {
    const N = 150_000;
    const dir = mkdtempSync(join(tmpdir(), 'pg-drops-'));
    writeFileSync(join(dir, 'src'), 'x');
    writeFileSync(join(dir, 'dst'), 'x');
    let received = 0;
    let fromChild = 0;
    let childPid = -1;
    // link/linkat: syscalls nothing else on the host makes in a burst, so the kernel counters are the flood's.
    const cap = await startCapture({
      eventTypes: new Set(['link', 'linkat']), log, ringBufferMB: 1,
      onEvents: (evs) => {
        for (const e of evs) {
          if (e.type !== 'link' && e.type !== 'linkat') continue;
          received++;
          if (e.thread.pid === childPid) fromChild++;
        }
      },
    });
    try {
      const { spawn } = await import('node:child_process');
      // Each link() fails with EEXIST and is still one syscall exit the kernel program sees.
      const child = spawn(PY, ['-c', `import os\nfor i in range(${N}):\n  try: os.link("src", "dst")\n  except FileExistsError: pass`], { cwd: dir, stdio: 'ignore' });
      childPid = child.pid!;
      const end = Date.now() + 4000;
      while (Date.now() < end && child.exitCode === null) { /* keep the JS thread busy so the ring overflows */ }
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.on('exit', r)));
      assert.equal(child.exitCode, 0);
      // Let every batch in the ring and the addon's queue arrive.
      let last = -1;
      while (received !== last) {
        last = received;
        await new Promise((r) => setTimeout(r, 300));
      }
      const st = cap.stats();
      const sent = (st.counters.link ?? 0) + (st.counters.linkat ?? 0);
      const dropped = (st.droppedByKind.link ?? 0) + (st.droppedByKind.linkat ?? 0);
      assert.ok(dropped > 0, `the flood overflowed the ring (${JSON.stringify(st)})`);
      assert.equal(received, sent, 'every event the kernel wrote reached JS');
      assert.equal(fromChild + dropped, N, 'every call of the flood was either delivered or counted as dropped');
      assert.equal(st.drops.addon_lost, 0, 'a blocked consumer stalls the poll thread; nothing is lost after the ring');
      assert.equal(st.drops.too_big, 0);
      const byCause = (st.drops.ringbuf_full ?? 0) + (st.drops.too_big ?? 0) + (st.drops.addon_lost ?? 0);
      assert.equal(byCause, Object.values(st.droppedByKind).reduce((a, b) => a + b, 0), 'drops by cause and by kind count the same events');
      // Over every kind (exec/exit of other processes keep coming): once the ring is drained, every record the
      // kernel wrote was decoded in JS or counted lost in the addon.
      let whole = cap.stats();
      for (let i = 0; i < 100 && whole.counters.events !== (whole.counters.received ?? 0) + (whole.drops.addon_lost ?? 0); i++) {
        await new Promise((r) => setTimeout(r, 50));
        whole = cap.stats();
      }
      assert.equal(whole.counters.events, (whole.counters.received ?? 0) + (whole.drops.addon_lost ?? 0), JSON.stringify(whole.counters));
    } finally {
      await cap.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
