// Process-table helpers: container ids from cgroup paths (every layout: test/container/cgroup.test.ts),
// and /proc snapshots of a live process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerFromCgroup, containerFromCgroups, readProc, Accounts } from '../../src/capture/proc.ts';

const ID = 'f3a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f';

test('container ids from cgroup paths', () => {
  const cases: [string, string | undefined][] = [
    [`/docker/${ID}`, 'docker'],
    [`/system.slice/docker-${ID}.scope`, 'docker'],
    [`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234.slice/cri-containerd-${ID}.scope`, 'containerd'],
    [`/kubepods/besteffort/pod1234/${ID}`, 'cri'],
    [`/machine.slice/libpod-${ID}.scope/container`, 'podman'],
    [`/machine.slice/libpod-${ID}.scope`, 'podman'],
    [`/kubepods.slice/kubepods-pod1.slice/crio-${ID}.scope`, 'cri-o'],
  ];
  for (const [path, type] of cases) {
    const c = containerFromCgroup(path);
    assert.equal(c?.id, ID.slice(0, 12), path);
    assert.equal(c?.fullId, ID, path);
    assert.equal(c?.type, type, path);
  }
  assert.equal(containerFromCgroup('/process_api/565a1ed0def6de8c442745918006ac42'), undefined);
  assert.equal(containerFromCgroup('/'), undefined);
  assert.equal(containerFromCgroup(`/kubepods.slice/crio-conmon-${ID}.scope`), undefined);
  // Exec records carry "parent/leaf" of the v1 memory cgroup and of the v2 cgroup.
  assert.equal(containerFromCgroup(`docker/${ID}`)?.id, ID.slice(0, 12));
  assert.equal(containerFromCgroups(['/', '/user.slice', `/docker/${ID}`])?.type, 'docker');
});

test('/proc snapshot of this process and user names', () => {
  const s = readProc(process.pid);
  assert.ok(s);
  assert.equal(s.pid, process.pid);
  assert.equal(s.ppid, process.ppid);
  assert.equal(s.exepath, process.execPath);
  assert.equal(s.cwd, process.cwd());
  assert.equal(s.uid, process.getuid!());
  assert.ok(s.startBootNs > 0n);
  const acc = new Accounts();
  assert.equal(acc.user(0).name, 'root');
  assert.equal(acc.group(0).name, 'root');
  assert.equal(acc.user(4000000).name, '<NA>');
  assert.equal(acc.user(4000000), acc.user(4000000), 'an unknown uid keeps one entry');
  assert.equal(acc.group(4000000).name, '<NA>');
  assert.equal(acc.group(4000000), acc.group(4000000));
});
