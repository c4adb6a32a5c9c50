// Pure pieces of the runtime-metadata module: image names, privileged/mounts/host namespaces from an OCI spec,
// and the one protobuf field read from containerd's event payloads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostNamespacesFromSpec, imageFields, mountsFromSpec, privilegedFromSpec, shortImageId, splitImage } from '../../src/container/metadata.ts';
import { protoStringField } from '../../src/container/grpc.ts';
import { cniResultOf } from '../../src/container/cri.ts';

test('image references split into repository and tag as the container plugin does', () => {
  assert.deepEqual(splitImage('nginx:1.27'), { repository: 'nginx', tag: '1.27' });
  assert.deepEqual(splitImage('docker.io/library/nginx'), { repository: 'docker.io/library/nginx', tag: '' });
  assert.deepEqual(splitImage('registry:5000/team/app'), { repository: 'registry:5000/team/app', tag: '' }, 'a port is not a tag');
  assert.deepEqual(splitImage('registry:5000/team/app:2@sha256:abc'), { repository: 'registry:5000/team/app', tag: '2' });
  assert.deepEqual(imageFields('app@sha256:abc'), { image: 'app@sha256:abc', imageRepository: 'app', imageDigest: 'sha256:abc' });
  assert.deepEqual(imageFields('app:1', 'sha256:def'), { image: 'app:1', imageRepository: 'app', imageTag: '1', imageDigest: 'sha256:def' });
  assert.deepEqual(imageFields(undefined), {});
  assert.equal(shortImageId('sha256:0123456789abcdef'), '0123456789ab');
  assert.equal(shortImageId(''), undefined);
});

const ALL_CAPS = ['CAP_CHOWN', 'CAP_SYS_ADMIN', 'CAP_NET_ADMIN'];

test('privileged is inferred from the spec: every capability and no masked or read-only paths', () => {
  assert.equal(privilegedFromSpec({ process: { capabilities: { bounding: ALL_CAPS } }, linux: {} }), true);
  assert.equal(privilegedFromSpec({ process: { capabilities: { bounding: ALL_CAPS } }, linux: { maskedPaths: ['/proc/kcore'] } }), false);
  assert.equal(privilegedFromSpec({ process: { capabilities: { bounding: ALL_CAPS } }, linux: { readonlyPaths: ['/proc/sys'] } }), false);
  assert.equal(privilegedFromSpec({ process: { capabilities: { bounding: ['CAP_CHOWN'] } }, linux: {} }), false);
  assert.equal(privilegedFromSpec({}), false);
});

test('mounts: every mount of the spec, as the plugin lists them (read-only flag, mode, rootfs propagation)', () => {
  const mounts = mountsFromSpec({
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid'] },
      { destination: '/host/etc', type: 'bind', source: '/etc', options: ['rbind', 'ro'] },
      { destination: '/data', source: '/srv/data', options: ['rbind', 'rshared', 'mode=755'] },
    ],
    linux: { rootfsPropagation: 'rprivate' },
  });
  assert.deepEqual(mounts, [
    { source: 'proc', dest: '/proc', mode: '', rdwr: true, propagation: 'rprivate' },
    { source: '/etc', dest: '/host/etc', mode: '', rdwr: false, propagation: 'rprivate' },
    { source: '/srv/data', dest: '/data', mode: '755', rdwr: true, propagation: 'rprivate' },
  ]);
});

test('host namespaces: a namespace type missing from the spec is the host\'s; one joined by path is not', () => {
  assert.deepEqual(hostNamespacesFromSpec({ linux: { namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }] } }),
    { hostPid: false, hostNetwork: false, hostIpc: false });
  assert.deepEqual(hostNamespacesFromSpec({ linux: { namespaces: [{ type: 'pid' }, { type: 'network', path: '/proc/1/ns/net' }] } }),
    { hostPid: false, hostNetwork: false, hostIpc: true });
});

test('field 1 of a protobuf message (containerd event payloads carry the container id there)', () => {
  // ContainerCreate{id: "abc", image: "img"}: tag 0x0a len 3 "abc", tag 0x12 len 3 "img"
  const msg = Uint8Array.from([0x0a, 3, 0x61, 0x62, 0x63, 0x12, 3, 0x69, 0x6d, 0x67]);
  assert.equal(protoStringField(msg, 1), 'abc');
  assert.equal(protoStringField(msg, 2), 'img');
  // TaskStart{container_id: "x", pid: 300}: a varint after the string
  assert.equal(protoStringField(Uint8Array.from([0x10, 0xac, 0x02, 0x0a, 1, 0x78]), 1), 'x');
  assert.equal(protoStringField(Uint8Array.from([0x0a, 0x80]), 1), undefined, 'truncated');
});

test('the pod CNI result: the pod\'s own interfaces from containerd\'s verbose info, CRI-O\'s annotation as is', () => {
  const containerd = JSON.stringify({ cniResult: { Interfaces: {
    eth0: { IPConfigs: [{ IP: '10.1.0.5', Gateway: '10.1.0.1' }], Mac: 'aa', Sandbox: '/var/run/netns/cni-1' },
    lo: { IPConfigs: [{ IP: '127.0.0.1' }], Mac: '00', Sandbox: '/var/run/netns/cni-1' },
    cni0: { IPConfigs: null, Mac: 'bb', Sandbox: '' },
  } } });
  assert.equal(cniResultOf(containerd), '{"eth0":{"IPConfigs":[{"IP":"10.1.0.5","Gateway":"10.1.0.1"}],"Mac":"aa"}}');
  assert.equal(cniResultOf(JSON.stringify({ runtimeSpec: { annotations: { 'io.kubernetes.cri-o.CNIResult': '{"ips":[]}' } } })), '{"ips":[]}');
  assert.equal(cniResultOf('not json'), undefined);
  assert.equal(cniResultOf(JSON.stringify({ cniResult: { Interfaces: { eth0: { Sandbox: '/n', Mac: 'x'.repeat(5000) } } } }))?.length, 4096);
});
