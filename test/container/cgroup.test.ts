// Container ids from every runtime's cgroup layout (v1 and v2, cgroupfs and systemd drivers): a pure function.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerFromCgroupPath, containerFromCgroupPaths, shortContainerId } from '../../src/container/cgroup.ts';

const ID = 'f3a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f';
const POD = 'kubepods-besteffort-pod0c2a5b1e_44d1_4f7b_9b0e_2f6a3c1d9e8f.slice';

test('each runtime layout names the container and the runtime to ask', () => {
  const cases: [string, string, string | undefined][] = [
    // Docker
    [`/docker/${ID}`, 'docker', undefined],
    [`/system.slice/docker-${ID}.scope`, 'docker', undefined],
    [`/kubepods.slice/kubepods-besteffort.slice/${POD}/docker-${ID}.scope`, 'docker', undefined],
    // containerd: CRI plugin with cgroupfs (v1 and v2 look the same), systemd driver, no SystemdCgroup
    [`/k8s.io/${ID}`, 'containerd', 'k8s.io'],
    [`/kubepods.slice/kubepods-besteffort.slice/${POD}/cri-containerd-${ID}.scope`, 'containerd', undefined],
    [`/kubepods-besteffort-pod1.slice:cri-containerd:${ID}`, 'containerd', undefined],
    [`/system.slice/nerdctl-${ID}.scope`, 'containerd', undefined],
    // kubelet's cgroupfs driver: any CRI runtime
    [`/kubepods/besteffort/pod0c2a5b1e-44d1-4f7b-9b0e-2f6a3c1d9e8f/${ID}`, 'cri', undefined],
    [`/kubepods/pod0c2a5b1e-44d1-4f7b-9b0e-2f6a3c1d9e8f/${ID}`, 'cri', undefined],
    // CRI-O
    [`/kubepods.slice/kubepods-burstable.slice/${POD}/crio-${ID}.scope`, 'cri-o', undefined],
    [`/kubepods/burstable/pod1/crio-${ID}`, 'cri-o', undefined],
    // podman
    [`/machine.slice/libpod-${ID}.scope`, 'podman', undefined],
    [`/machine.slice/libpod-${ID}.scope/container`, 'podman', undefined],
    [`/machine.slice/libpod-payload-${ID}.scope`, 'podman', undefined],
    [`/libpod_parent/libpod-${ID}`, 'podman', undefined],
    [`/libpod_parent/${ID}`, 'podman', undefined],
    // containerd clients (ctr): /<namespace>/<id>
    [`/default/${ID}`, 'containerd', 'default'],
    [`/moby/${ID}`, 'docker', 'moby'],
  ];
  for (const [path, runtime, namespace] of cases) {
    const c = containerFromCgroupPath(path);
    assert.ok(c, path);
    assert.equal(c.fullId, ID, path);
    assert.equal(c.runtime, runtime, path);
    assert.equal(c.namespace, namespace, path);
  }
});

test('exec records carry only parent/leaf, which is enough', () => {
  assert.equal(containerFromCgroupPath(`docker/${ID}`)?.runtime, 'docker');
  assert.equal(containerFromCgroupPath(`k8s.io/${ID}`)?.namespace, 'k8s.io');
  assert.equal(containerFromCgroupPath(`libpod-${ID}.scope/container`)?.fullId, ID);
  assert.equal(containerFromCgroupPath(`${POD}/cri-containerd-${ID}.scope`)?.runtime, 'containerd');
  assert.equal(containerFromCgroupPath(`default/web-1`)?.fullId, 'web-1');
});

test('ctr ids need not be hex, but only under a namespace containerd has', () => {
  assert.deepEqual(containerFromCgroupPath('/default/web-1'), { fullId: 'web-1', runtime: 'containerd', namespace: 'default' });
  assert.equal(containerFromCgroupPath('/team-a/web-1'), undefined, 'unknown namespace: a host cgroup');
  assert.deepEqual(containerFromCgroupPath('/team-a/web-1', new Set(['team-a'])), { fullId: 'web-1', runtime: 'containerd', namespace: 'team-a' });
  assert.equal(containerFromCgroupPath('/default/foo.service'), undefined);
  assert.equal(containerFromCgroupPath('/default/a..b'), undefined, 'not a containerd identifier');
  assert.equal(containerFromCgroupPath('/default'), undefined, 'the namespace cgroup itself');
});

test('host cgroups and runtime helpers are not containers', () => {
  for (const p of ['/', '', '/init.scope', '/user.slice/user-0.slice/session-3.scope', '/system.slice/containerd.service',
    '/process_api/565a1ed0def6de8c442745918006ac42', `/kubepods.slice/${POD}/crio-conmon-${ID}.scope`,
    '/kubepods.slice/kubepods-besteffort.slice', `/docker/${ID.slice(1)}`, `/system.slice/docker-${ID}.mount`]) {
    assert.equal(containerFromCgroupPath(p), undefined, p);
  }
});

test('the first hierarchy that names a container wins; short ids are 12 characters', () => {
  assert.equal(containerFromCgroupPaths(['/', '/user.slice', `/docker/${ID}`])?.runtime, 'docker');
  assert.equal(containerFromCgroupPaths(['/', '/user.slice']), undefined);
  assert.equal(shortContainerId(ID), ID.slice(0, 12));
  assert.equal(shortContainerId('web-1'), 'web-1');
});
