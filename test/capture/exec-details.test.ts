// What the kernel reports at exec (root, real kernel): capabilities as committed at exec (a program that drops
// CAP_SYS_ADMIN before exec must not look as if it held it), the overlayfs layer of the executable (upper: written
// after the mount, lower: from the lower directory, neither: a plain file), and the pid in a new pid namespace.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SyscallEvent } from '../../src/engine/event.ts';
import { captureAvailability, startCapture, type Capture } from '../../src/capture/index.ts';
import { captureTestLog, waitFor } from '../support/capture.ts';

const PY = '/usr/bin/python3';
const CAP_SYS_ADMIN = 1n << 21n;
const log = captureTestLog;

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr?.toString()}`);
}

describe('kernel capture: exec details', () => {
  test('capture is available (root, BTF, addon built)', () => {
    assert.deepEqual(captureAvailability(), { ok: true });
  });

  const marker = `pgexec${process.pid}x${Date.now()}`;
  const dir = mkdtempSync(join(tmpdir(), 'pg-exec-'));
  const events: SyscallEvent[] = [];
  let cap: Capture;
  let merged = '';

  before(async () => {
    cap = await startCapture({ eventTypes: new Set(['execve']), onEvents: (e) => { events.push(...e); }, log, ringBufferMB: 16 });
    // An overlay like a container's rootfs: the image in lower, the container's writes land in upper.
    for (const d of ['lower', 'upper', 'work', 'merged']) mkdirSync(join(dir, d));
    copyFileSync('/bin/true', join(dir, 'lower', `${marker}-lower`));
    merged = join(dir, 'merged');
    run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${dir}/lower,upperdir=${dir}/upper,workdir=${dir}/work`, merged]);
    copyFileSync('/bin/true', join(merged, `${marker}-upper`));
    copyFileSync('/bin/true', join(dir, `${marker}-plain`));
    run('chmod', ['755', join(merged, `${marker}-upper`), join(dir, `${marker}-plain`)]);
  });

  after(async () => {
    await cap?.stop();
    spawnSync('umount', [merged]);
    rmSync(dir, { recursive: true, force: true });
  });

  const execOf = (path: string) => waitFor(`exec of ${path}`, () => events.find((e) => e.type === 'execve' && e.thread.exepath === path));

  test('proc.is_exe_upper_layer: a file written into the overlay after the mount; lower: one from the image', async () => {
    run(join(merged, `${marker}-upper`), []);
    run(join(merged, `${marker}-lower`), []);
    run(join(dir, `${marker}-plain`), []);
    const upper = await execOf(join(merged, `${marker}-upper`));
    assert.equal(upper.thread.exeUpperLayer, true);
    assert.equal(upper.thread.exeLowerLayer, false);
    const lower = await execOf(join(merged, `${marker}-lower`));
    assert.equal(lower.thread.exeUpperLayer, false);
    assert.equal(lower.thread.exeLowerLayer, true);
    const plain = await execOf(join(dir, `${marker}-plain`));
    assert.equal(plain.thread.exeUpperLayer, false);
    assert.equal(plain.thread.exeLowerLayer, false);
  });

  test('capabilities as the kernel committed them at exec: dropped before exec means absent', async () => {
    // Drop CAP_SYS_ADMIN from the bounding set, then exec a setuid-less program as root: it cannot regain it.
    const prog = [
      'import ctypes, os',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'assert libc.prctl(24, 21, 0, 0, 0) == 0', // PR_CAPBSET_DROP CAP_SYS_ADMIN
      `os.execv("/bin/sh", ["sh", "-c", ": ${marker}-dropped"])`,
    ].join('\n');
    run(PY, ['-c', prog]);
    run('/bin/sh', ['-c', `: ${marker}-full`]);
    const dropped = await waitFor('exec after the drop', () => events.find((e) => e.type === 'execve' && e.thread.comm === 'sh' && e.thread.args.join(' ').includes(`${marker}-dropped`)));
    const full = await waitFor('exec with every capability', () => events.find((e) => e.type === 'execve' && e.thread.args.join(' ').includes(`${marker}-full`)));
    assert.equal((dropped.thread.capPermitted ?? 0n) & CAP_SYS_ADMIN, 0n, 'CAP_SYS_ADMIN gone from the permitted set');
    assert.equal((dropped.thread.capEffective ?? 0n) & CAP_SYS_ADMIN, 0n);
    assert.notEqual((full.thread.capPermitted ?? 0n) & CAP_SYS_ADMIN, 0n, 'root keeps it without the drop');
  });

  test('proc.vpid: pid 1 for the first process of a new pid namespace', async () => {
    run('unshare', ['--pid', '--fork', '/bin/sh', '-c', `: ${marker}-pidns`]);
    const e = await waitFor('exec in the new pid namespace', () => events.find((x) => x.type === 'execve' && x.thread.comm === 'sh' && x.thread.args.join(' ').includes(`${marker}-pidns`)));
    assert.equal(e.thread.vpid, 1);
    assert.notEqual(e.thread.pid, 1);
  });
});
