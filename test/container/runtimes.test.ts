// The runtime-metadata module against real runtimes (root): containerd's own API (ctr containers: plain, labelled
// with a read-only bind mount, privileged), the CRI on the same socket (a pod and its container), and dockerd on that
// containerd. The cache is what `peregrine run` uses: containers are interned as the capture would from their
// cgroups, and must fill from the runtime (or from its event stream) without the caller waiting.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { Containerd, containerdUnavailable, hexId, IMAGE, IMAGE_LABELS, IMAGE_REPOSITORY } from '../services/containerd.ts';
import { eventually } from '../support/eventually.ts';
import { startContainerMetadata, type ContainerMetadataService } from '../../src/container/index.ts';
import { containerSchema } from '../../src/config/container-schema.ts';
import { readCgroups } from '../../src/capture/proc.ts';
import { containerFromCgroupPaths } from '../../src/container/cgroup.ts';
import type { ContainerMetadata } from '../../src/engine/event.ts';

// Never skipped: without root or the runtimes the suites fail with the reason (setup.sh --test installs them).
const unavailable = containerdUnavailable();

describe('container metadata from real containerd, CRI and Docker', () => {
  let rt: Containerd;
  let svc: ContainerMetadataService;
  const logs: { level: string; o: unknown; m?: string }[] = [];
  const registry = new Registry();
  const log = {
    info: (o: object | string, m?: string) => logs.push({ level: 'info', o, ...(m ? { m } : {}) }),
    warn: (o: object | string, m?: string) => logs.push({ level: 'warn', o, ...(m ? { m } : {}) }),
  };

  before(async () => {
    if (unavailable) throw new Error(unavailable);
    rt = await Containerd.start();
    await rt.startDocker();
    const cfg = containerSchema.parse({
      containerd: { socket: rt.socket }, cri: { sockets: [rt.socket] }, docker: { socket: rt.dockerSocket },
      podman: { socket: `${rt.dir}/no-podman.sock` },
    });
    svc = startContainerMetadata(cfg, { log, registry });
  });

  after(async () => {
    svc?.close();
    await rt?.stop();
  });

  /** What the capture does for a process: find its container in /proc/<pid>/cgroup and intern it. */
  function internPid(pid: number) {
    const found = containerFromCgroupPaths(readCgroups(pid) ?? [], svc.namespaces);
    assert.ok(found, `process ${pid} is in a container cgroup`);
    return svc.intern(found);
  }

  async function filled(pid: number): Promise<ContainerMetadata> {
    const info = internPid(pid);
    await eventually(() => assert.ok(info.metadata, 'metadata filled'), 10_000);
    return info.metadata!;
  }

  test('ctr: image, labels (container and image), a read-only bind mount, not privileged; name is the short id', async () => {
    const id = hexId();
    await rt.runCtr({ id, labels: { team: 'blue' }, mounts: [{ src: '/etc', dst: '/hostetc' }] });
    const m = await filled(await rt.pidOf(id));
    assert.equal(m.id, id.slice(0, 12));
    assert.equal(m.fullId, id);
    assert.equal(m.type, 'containerd');
    assert.equal(m.name, id.slice(0, 12));
    assert.equal(m.image, IMAGE);
    assert.equal(m.imageRepository, IMAGE_REPOSITORY);
    assert.equal(m.imageTag, 'e2e');
    assert.equal(m.imageDigest, rt.imageDigest);
    assert.equal(m.labels?.team, 'blue');
    for (const [k, v] of Object.entries(IMAGE_LABELS)) assert.equal(m.labels?.[k], v);
    assert.equal(m.privileged, false);
    // ctr sets no rootfs propagation: the plugin shows it empty.
    assert.deepEqual(m.mounts?.find((x) => x.dest === '/hostetc'), { source: '/etc', dest: '/hostetc', mode: '', rdwr: false, propagation: '' });
    assert.equal(m.hostPid, false);
    // container.start_ts from the runtime (containerd: the container's creation).
    const startTs = svc.cache.peek(id)?.startTs ?? 0n;
    assert.ok(startTs > BigInt(Date.now() - 60_000) * 1_000_000n && startTs <= BigInt(Date.now()) * 1_000_000n, `start ${startTs}`);
  });

  test('ctr --privileged: privileged inferred from the spec', async () => {
    const id = hexId();
    await rt.runCtr({ id, privileged: true });
    const m = await filled(await rt.pidOf(id));
    assert.equal(m.privileged, true);
  });

  test('ctr with a non-hex id in a namespace of its own: /<namespace>/<id> is recognised once containerd reports it', async () => {
    const ns = `team${process.pid}`;
    const id = `web-${process.pid}`;
    assert.equal(containerFromCgroupPaths([`/${ns}/${id}`], svc.namespaces), undefined, 'an unknown namespace is a host cgroup');
    await rt.importImage(ns);
    await rt.runCtr({ id, namespace: ns });
    const pid = await rt.pidOf(id, ns);
    // The namespace arrives with containerd's events for the new container.
    await eventually(() => assert.ok(svc.namespaces.has(ns)), 10_000);
    const m = await filled(pid);
    assert.equal(m.fullId, id);
    assert.equal(m.name, id);
    assert.equal(m.image, IMAGE);
  });

  test('CRI: container name, pod name/namespace/uid as kubelet labels, pod labels, sandbox id, pod IP', async () => {
    const { podId, containerId } = await rt.runPod({ name: 'web', namespace: 'shop', uid: 'f00d-1', container: 'app', labels: { app: 'web' } });
    const pid = Number(JSON.parse(await rt.crictl(['inspect', containerId])).info.pid);
    const m = await filled(pid);
    assert.equal(m.fullId, containerId);
    assert.equal(m.type, 'containerd');
    assert.equal(m.name, 'app');
    assert.equal(m.image, IMAGE);
    assert.equal(m.labels?.['io.kubernetes.pod.name'], 'web');
    assert.equal(m.labels?.['io.kubernetes.pod.namespace'], 'shop');
    assert.equal(m.labels?.['io.kubernetes.pod.uid'], 'f00d-1');
    assert.equal(m.podSandboxId, podId);
    assert.deepEqual(m.podSandboxLabels, { app: 'web' });
    assert.match(m.ip ?? '', /^10\.251\.0\.\d+$/);
    // The pod's own interfaces from the sandbox's verbose CNI result (not the host's bridge, veth or loopback).
    const cni = JSON.parse(m.cniResult ?? '{}') as Record<string, { IPConfigs: { IP: string }[] }>;
    assert.deepEqual(Object.keys(cni), ['eth0']);
    assert.equal(cni.eth0!.IPConfigs[0]!.IP, m.ip);
    assert.equal(m.privileged, false);
    // The pause container answers too, as the pod's sandbox (pre-filled from containerd's events).
    await eventually(() => assert.equal(svc.cache.peek(podId)?.metadata?.name, 'web'), 10_000);
  });

  test('Docker: name, image, image id, host mount mode; pre-filled from /events before any process is seen', async () => {
    const name = `dock${process.pid}`;
    const id = await rt.docker(['run', '-d', '--name', name, '-v', '/etc:/hostetc:ro', '--label', 'tier=web', IMAGE, 'sleep', '3600']);
    // No intern yet: the event stream alone fills it.
    await eventually(() => assert.equal(svc.cache.peek(id)?.metadata?.name, name), 10_000);
    const pid = Number(await rt.docker(['inspect', '-f', '{{.State.Pid}}', id]));
    const m = await filled(pid);
    assert.equal(m.type, 'docker');
    assert.equal(m.image, IMAGE);
    assert.equal(m.imageRepository, IMAGE_REPOSITORY);
    assert.match(m.imageId ?? '', /^[0-9a-f]{12}$/);
    assert.equal(m.labels?.tier, 'web');
    const startTs = svc.cache.peek(id)?.startTs ?? 0n;
    assert.ok(startTs > BigInt(Date.now() - 60_000) * 1_000_000n, `Docker's StartedAt: ${startTs}`);
    assert.deepEqual(m.mounts?.find((x) => x.dest === '/hostetc'), { source: '/etc', dest: '/hostetc', mode: 'ro', rdwr: false, propagation: 'rprivate' });
  });

  test('podman\'s path (a libpod cgroup) speaks the Docker-compatible API: here dockerd\'s socket stands in for podman\'s', async () => {
    const name = `pod${process.pid}`;
    const id = await rt.docker(['run', '-d', '--name', name, IMAGE, 'sleep', '3600']);
    const podman = startContainerMetadata(containerSchema.parse({
      containerd: { enabled: false }, cri: { enabled: false }, docker: { enabled: false }, podman: { socket: rt.dockerSocket },
    }), { log });
    try {
      // What the capture would intern for /machine.slice/libpod-<id>.scope.
      const info = podman.intern({ fullId: id, runtime: 'podman' });
      await eventually(() => assert.ok(info.metadata), 10_000);
      assert.equal(info.metadata!.type, 'podman');
      assert.equal(info.metadata!.name, name);
      assert.equal(info.metadata!.imageRepository, IMAGE_REPOSITORY);
    } finally {
      podman.close();
    }
  });

  test('time to fill and lookups are metrics; an absent runtime was logged once, never retried into the log', async () => {
    const text = await registry.metrics();
    assert.match(text, /peregrine_container_metadata_fill_seconds_count\{runtime="containerd"\} [1-9]/);
    assert.match(text, /peregrine_container_metadata_fill_seconds_count\{runtime="docker"\} [1-9]/);
    assert.match(text, /peregrine_container_metadata_lookups_total\{runtime="containerd",result="found"\} [1-9]/);
    const podmanDown = logs.filter((l) => l.level === 'warn' && JSON.stringify(l.o).includes('"runtime":"podman"'));
    assert.ok(podmanDown.length <= 1, `podman's absence logged at most once: ${JSON.stringify(podmanDown)}`);
  });

  test('containerd down: lookups fail fast, one log line, the entry stays without metadata', async () => {
    const before = logs.filter((l) => l.level === 'warn' && JSON.stringify(l.o).includes('"runtime":"containerd"')).length;
    await rt.killDaemon();
    const started = performance.now();
    const info = svc.intern({ fullId: hexId(), runtime: 'containerd', namespace: 'default' });
    assert.ok(performance.now() - started < 5, 'intern never waits');
    const info2 = svc.intern({ fullId: hexId(), runtime: 'containerd', namespace: 'default' });
    await eventually(() => {
      const warned = logs.filter((l) => l.level === 'warn' && JSON.stringify(l.o).includes('"runtime":"containerd"')).length;
      assert.equal(warned - before, 1, `one line for containerd going down: ${JSON.stringify(logs)}`);
    }, 10_000);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(info.metadata, undefined);
    assert.equal(info2.metadata, undefined);
    assert.equal(logs.filter((l) => l.level === 'warn' && JSON.stringify(l.o).includes('"runtime":"containerd"')).length - before, 1, 'still one line');
    // Back up: the event stream reconnects and says so once.
    await rt.restartDaemon();
    await eventually(() => assert.ok(logs.some((l) => l.m === 'container runtime is reachable again' && JSON.stringify(l.o).includes('containerd'))), 10_000);
  });
});
